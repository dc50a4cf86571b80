"""Data-path overhead of training: FairFace through the decoded-image cache vs random tensors.

For each model x precision this measures, in one run on the same device, threads, batch size and
image size:

- ``pipeline``: fairsuite's own training loop (``fairsuite.train._engine.train_loop``) on real
  FairFace images: the whole uint8 cache on the device, each batch gathered, randomly cropped
  (4 px padding), flipped and normalised there, channels_last, autocast for bf16/fp16;
- ``baseline``: the same model and optimiser step on one random float batch already on the
  device (no data path at all).

It prints images/s of both and their ratio (target >= 0.9). Rounds alternate between the two
and the best round of each counts, so background load on a shared machine hurts both alike.
The cold cache build (decode + resize of every image, all cores) is timed too.

Usage (CPU, quick)::

    python benchmarks/bench_train.py --device cpu --image-size 32 --steps 5

GPU (what benchmarks/gpu.sh runs)::

    python benchmarks/bench_train.py --device cuda --image-size 112 --batch-size 256 --steps 50
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_DATA = os.environ.get(
    "FAIRSUITE_TEST_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")
)


def _fairface_train(data_dir: Path, limit: int | None) -> tuple[list[str], np.ndarray]:
    root = data_dir / "fairface"
    df = pd.read_csv(root / "images_present.csv")
    df = df[df["file"].str.startswith("train/")]
    if limit:
        df = df.iloc[:limit]
    paths = [str(root / f) for f in df["file"]]
    y = (df["gender"] == "Female").to_numpy(dtype=np.int64)
    return paths, y


def _baseline(model_name: str, args: argparse.Namespace, device, precision: str) -> float:
    import torch

    from fairsuite.train._engine import make_step
    from fairsuite.train._vision import build_image_model

    torch.manual_seed(0)
    net = build_image_model(model_name, 2, image_size=args.image_size, pretrained=False)
    net = net.to(device).to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
    step = make_step(net, opt, device=device, precision=precision)
    b, s = args.batch_size, args.image_size
    x = torch.randn(b, 3, s, s, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (b,), device=device)
    for _ in range(args.warmup):
        step(x, y, None)
    _sync(device)
    t0 = time.perf_counter()
    total = torch.zeros((), device=device)
    for _ in range(args.steps):
        total += step(x, y, None)
    _sync(device)
    return args.steps * b / (time.perf_counter() - t0)


def _pipeline(
    model_name: str, args: argparse.Namespace, device, precision: str, images, y
) -> float:
    import torch

    from fairsuite.train._engine import ImageSource, train_loop
    from fairsuite.train._vision import build_image_model

    torch.manual_seed(0)
    net = build_image_model(model_name, 2, image_size=args.image_size, pretrained=False)
    net = net.to(device).to(memory_format=torch.channels_last)
    b = args.batch_size
    kw = dict(
        device=device,
        precision=precision,
        batch_size=b,
        lr=1e-3,
        weight_decay=0.05,
        patience=1,
        random_state=0,
        progress=False,
        desc="bench",
        unit="image",
    )
    # Warm-up epoch over `warmup` batches, then one timed epoch over `steps` batches.
    n_warm = min(len(images), args.warmup * b)
    train_loop(net, ImageSource(images[:n_warm]), y[:n_warm], None, None, None, epochs=1, **kw)
    n = args.steps * b
    reps = -(-n // len(images))
    idx = (
        torch.arange(n, device=device) % len(images) if reps > 1 else torch.arange(n, device=device)
    )
    src = ImageSource(images[idx])
    res = train_loop(net, src, y[idx], None, None, None, epochs=1, **kw)
    return float(res.history[0]["images_per_s"])


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; best one counts")
    p.add_argument("--models", default="small_cnn,resnet18")
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    p.add_argument("--max-images", type=int, default=None)
    p.add_argument(
        "--cache-dir", default=None, help="default: a fresh temporary folder (cold build)"
    )
    args = p.parse_args(argv)

    import torch

    from fairsuite.data._image_cache import build_image_cache
    from fairsuite.train._device import limit_threads, resolve_device, resolve_precision

    device = resolve_device(args.device)
    threads = limit_threads()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        name = torch.cuda.get_device_name(device)
    else:
        name = "cpu"
    paths, y_np = _fairface_train(Path(args.data_dir), args.max_images)
    print(f"device={device} ({name}) torch={torch.__version__} threads={threads}")
    print(
        f"images={len(paths)} image_size={args.image_size} batch_size={args.batch_size} "
        f"steps={args.steps} warmup={args.warmup} rounds={args.rounds}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or tmp
        t0 = time.perf_counter()
        cache = build_image_cache(
            paths, image_size=args.image_size, cache_dir=cache_dir, progress=False
        )
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_image_cache(paths, image_size=args.image_size, cache_dir=cache_dir, progress=False)
        warm = time.perf_counter() - t0
        print(
            f"cache: cold build {cold:.2f}s ({len(paths) / cold:.0f} img/s decode+resize), "
            f"reuse {warm * 1000:.0f} ms, failed={cache.n_failed}"
        )
        t0 = time.perf_counter()
        images = torch.from_numpy(np.array(cache.array[cache.ok])).to(device)
        y = torch.from_numpy(y_np[cache.ok]).to(device)
        _sync(device)
        print(
            f"upload of the uint8 cache to {device.type}: {images.numel() / 1e6:.1f} MB in "
            f"{time.perf_counter() - t0:.3f}s"
        )

    rows = []
    for model_name in args.models.split(","):
        for prec_name in args.precisions.split(","):
            try:
                prec = resolve_precision(prec_name, device)
            except ValueError as err:
                print(f"skip {model_name} {prec_name}: {err}")
                continue
            best_b = best_p = 0.0
            for _ in range(args.rounds):
                best_b = max(best_b, _baseline(model_name, args, device, prec))
                best_p = max(best_p, _pipeline(model_name, args, device, prec, images, y))
            ratio = best_p / best_b
            rows.append((model_name, prec, best_b, best_p, ratio))
            print(
                f"{model_name:10s} {prec:5s} baseline {best_b:9.1f} img/s   "
                f"pipeline {best_p:9.1f} img/s"
                f"   ratio {ratio:.3f}   {'OK' if ratio >= 0.9 else 'BELOW 0.9'}",
                flush=True,
            )
    worst = min((r[4] for r in rows), default=float("nan"))
    print(f"worst ratio {worst:.3f} (target >= 0.9)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
