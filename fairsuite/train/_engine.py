"""The torch training loop shared by the image models and the tabular MLP.

Inputs stay on the device for the whole run: an image model gets the uint8 ``N x H x W x 3``
cache as one device tensor and each batch is gathered, cropped, flipped and normalised there in
one batched step; the MLP gets its float feature matrix. Mixed precision is ``torch.autocast``
(bf16, or fp16 with a gradient scaler on CUDA). Early stopping watches validation accuracy and
the best epoch's weights are restored at the end. The loss is the sample-weighted mean of the
per-row cross-entropies when weights are given.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["ImageSource", "TensorSource", "TrainResult", "train_loop", "predict_proba_torch"]

#: ImageNet channel statistics; every image model normalises with them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageSource:
    """Batches from a uint8 ``N x H x W x 3`` tensor on the device, augmented on the device.

    Augmentation (training only): random crop with ``pad`` pixels of zero padding and a random
    horizontal flip, both drawn per image and applied to the whole batch in one gather; images
    marked in ``jitter`` (copies an intervention oversampled) also get random colour jitter. The
    result is float32, normalised, ``N x 3 x H x W`` in channels_last memory format.
    """

    def __init__(
        self,
        images: torch.Tensor,
        *,
        mean: tuple[float, ...] = IMAGENET_MEAN,
        std: tuple[float, ...] = IMAGENET_STD,
        pad: int = 4,
        jitter: torch.Tensor | None = None,
    ) -> None:
        import torch

        self.images = images
        self.jitter = jitter
        self.n = images.shape[0]
        self.size = images.shape[1]
        self.pad = pad
        dev = images.device
        s = torch.tensor(std, dtype=torch.float32, device=dev)
        m = torch.tensor(mean, dtype=torch.float32, device=dev)
        self.scale = (1.0 / (255.0 * s)).view(1, 3, 1, 1)
        self.shift = (m / s).view(1, 3, 1, 1)
        self.ar = torch.arange(self.size, device=dev)

    def batch(
        self, idx: torch.Tensor, *, augment: bool, generator: torch.Generator | None
    ) -> torch.Tensor:
        import torch
        from torch.nn import functional as F

        x = self.images[idx]  # B x H x W x 3 uint8 (gathered on the device)
        if augment and self.pad >= 0:
            b, h = x.shape[0], self.size
            p = self.pad
            dev = x.device
            if p > 0:
                x = F.pad(x, (0, 0, p, p, p, p))
            oy = torch.randint(0, 2 * p + 1, (b, 1), device=dev, generator=generator)
            ox = torch.randint(0, 2 * p + 1, (b, 1), device=dev, generator=generator)
            flip = torch.rand((b, 1), device=dev, generator=generator) < 0.5
            rows = oy + self.ar
            cols = ox + torch.where(flip, h - 1 - self.ar, self.ar)
            bi = torch.arange(b, device=dev).view(b, 1, 1)
            x = x[bi, rows.view(b, h, 1), cols.view(b, 1, h)]  # B x H x W x 3
        # NHWC memory seen as NCHW: channels_last without a copy.
        x = x.permute(0, 3, 1, 2).float()
        if augment and self.jitter is not None:
            x = _colour_jitter(x, self.jitter[idx], generator)
        return x.mul_(self.scale).sub_(self.shift)


def _colour_jitter(
    x: torch.Tensor, rows: torch.Tensor, generator: torch.Generator | None, strength: float = 0.3
) -> torch.Tensor:
    """Random brightness, contrast and saturation (factors in 1 +- ``strength``, drawn per
    image) for the images where ``rows`` is True; pixel values stay in 0..255."""
    import torch

    b = x.shape[0]
    dev = x.device

    def factor() -> torch.Tensor:
        f = 1.0 + strength * (2.0 * torch.rand((b, 1, 1, 1), device=dev, generator=generator) - 1)
        return torch.where(rows.view(b, 1, 1, 1), f, torch.ones_like(f))

    brightness, contrast, saturation = factor(), factor(), factor()
    x = x * brightness
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean
    gray = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
    x = (x - gray) * saturation + gray
    return x.clamp_(0.0, 255.0)


class TensorSource:
    """Batches from a float feature matrix already on the device (no augmentation)."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x
        self.n = x.shape[0]

    def batch(
        self, idx: torch.Tensor, *, augment: bool, generator: torch.Generator | None
    ) -> torch.Tensor:
        return self.x[idx]


@dataclass
class TrainResult:
    """What :func:`train_loop` returns: per-epoch history and the restored best epoch."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val_accuracy: float = float("nan")


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    """The autocast context for ``precision`` (a no-op for fp32)."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def _show(progress: bool) -> bool:
    return bool(progress) and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


def _sync(device: torch.device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def predict_proba_torch(
    model: torch.nn.Module,
    source: ImageSource | TensorSource,
    *,
    device: torch.device,
    precision: str,
    batch_size: int,
) -> torch.Tensor:
    """Softmax probabilities of every row of ``source`` (float32, on the device)."""
    import torch

    model.eval()
    outs = []
    with torch.inference_mode(), autocast(device, precision):
        for s in range(0, source.n, batch_size):
            idx = torch.arange(s, min(s + batch_size, source.n), device=device)
            logits = model(source.batch(idx, augment=False, generator=None))
            outs.append(torch.softmax(logits.float(), dim=1))
    return torch.cat(outs) if outs else torch.zeros((0, 0), device=device)


def make_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    device: torch.device,
    precision: str,
) -> Any:
    """Return ``step(x, y, w) -> loss tensor``: forward, weighted CE, backward, update."""
    import torch
    from torch.nn import functional as F

    scaler = (
        torch.amp.GradScaler("cuda") if (precision == "fp16" and device.type == "cuda") else None
    )

    def step(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        with autocast(device, precision):
            logits = model(x)
        losses = F.cross_entropy(logits.float(), y, reduction="none")
        loss = (losses * w).sum() / w.sum().clamp_min(1e-12) if w is not None else losses.mean()
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        return loss.detach()

    return step


def train_loop(
    model: torch.nn.Module,
    fit: ImageSource | TensorSource,
    y_fit: torch.Tensor,
    w_fit: torch.Tensor | None,
    val: ImageSource | TensorSource | None,
    y_val: torch.Tensor | None,
    *,
    device: torch.device,
    precision: str,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    patience: int,
    random_state: int,
    progress: bool,
    desc: str,
    unit: str = "img",
) -> TrainResult:
    """Train ``model`` in place with AdamW + cosine schedule and early stopping on validation.

    The best epoch (highest validation accuracy; first one on ties) is restored at the end.
    Without a validation split the last epoch is kept.
    """
    import torch
    from tqdm.auto import tqdm

    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick the fastest kernels
    gen = torch.Generator(device=device)
    gen.manual_seed(random_state)
    bs = max(1, min(batch_size, fit.n))
    steps = max(1, fit.n // bs)  # the last partial batch is dropped (reshuffled next epoch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda i: 0.5 * (1.0 + math.cos(math.pi * min(i, epochs * steps) / (epochs * steps))),
    )
    step = make_step(model, optimizer, device=device, precision=precision)
    result = TrainResult()
    best_state: dict[str, torch.Tensor] | None = None
    best_acc = -1.0
    since_best = 0
    bar = tqdm(
        total=epochs * steps, desc=desc, unit="step", file=sys.stderr, disable=not _show(progress)
    )
    with bar:
        for epoch in range(1, epochs + 1):
            model.train()
            perm = torch.randperm(fit.n, device=device, generator=gen)
            total = torch.zeros((), device=device)
            _sync(device)
            t0 = time.perf_counter()
            for i in range(steps):
                idx = perm[i * bs : (i + 1) * bs]
                x = fit.batch(idx, augment=True, generator=gen)
                w = w_fit[idx] if w_fit is not None else None
                total += step(x, y_fit[idx], w)
                sched.step()
                bar.update(1)
            _sync(device)
            seconds = time.perf_counter() - t0
            entry: dict[str, float] = {
                "epoch": epoch,
                "loss": float(total.item()) / steps,
                f"{unit}s_per_s": steps * bs / max(seconds, 1e-9),
                "seconds": seconds,
            }
            if val is not None and y_val is not None and val.n > 0:
                proba = predict_proba_torch(
                    model, val, device=device, precision=precision, batch_size=2 * bs
                )
                acc = float((proba.argmax(1) == y_val).float().mean().item())
                entry["val_accuracy"] = acc
                if acc > best_acc:
                    best_acc, since_best = acc, 0
                    result.best_epoch = epoch
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    since_best += 1
            else:
                entry["val_accuracy"] = float("nan")
                result.best_epoch = epoch
            result.history.append(entry)
            bar.set_postfix(
                epoch=epoch,
                loss=f"{entry['loss']:.3f}",
                val_acc=f"{entry['val_accuracy']:.3f}",
                **{f"{unit}_s": f"{entry[f'{unit}s_per_s']:.0f}"},
            )
            if val is not None and since_best >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
        result.best_val_accuracy = best_acc
    model.eval()
    return result
