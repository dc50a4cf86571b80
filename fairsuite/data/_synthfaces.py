"""synthfaces: fairsuite's embedded, procedurally generated face-like image set (SYNTHETIC)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from fairsuite._paths import resolve_cache_dir
from fairsuite.data._checks import stratified_split
from fairsuite.data._dataset import Dataset, LoadReport
from fairsuite.exceptions import InvalidInputError

__all__ = ["make_synthfaces", "DEFAULT_PROPORTIONS", "DEFAULT_DIFFICULTY", "SKIN_TONES"]

_GENERATOR_VERSION = 1
SKIN_TONES: tuple[str, ...] = ("light", "medium", "dark")
DEFAULT_PROPORTIONS: tuple[float, ...] = (0.80, 0.15, 0.05)
#: Per skin tone: (signal strength, label-noise rate). The dark 5% is planted harder.
DEFAULT_DIFFICULTY: tuple[tuple[float, float], ...] = ((1.0, 0.0), (0.8, 0.03), (0.25, 0.20))
_TONE_RGB = {
    "light": (0.93, 0.79, 0.69),
    "medium": (0.76, 0.56, 0.40),
    "dark": (0.42, 0.28, 0.19),
}
_HAIR_RGB = np.array(
    [
        (0.10, 0.07, 0.05),
        (0.30, 0.18, 0.10),
        (0.55, 0.38, 0.20),
        (0.85, 0.72, 0.45),
        (0.05, 0.05, 0.05),
    ],
    dtype=np.float32,
)
_CLASSES = ("Male", "Female")

_BAD_PROPORTIONS = (
    "proportions is {value!r}; allowed: {k} positive numbers (one per skin tone {tones}) "
    "summing to 1"
)
_BAD_DIFFICULTY = (
    "difficulty is {value!r}; allowed: one (signal, label_noise) pair per skin tone {tones}, "
    "signal in [0, 3], label_noise in [0, 0.5)"
)
_BAD_N = "{name} is {value!r}; allowed: an integer >= {low}"


def _validate(
    n: int, image_size: int, proportions: Sequence[float], difficulty: Sequence[Sequence[float]]
) -> tuple[tuple[float, ...], tuple[tuple[float, float], ...]]:
    k = len(SKIN_TONES)
    if not isinstance(n, (int, np.integer)) or n < 20:
        raise InvalidInputError(_BAD_N.format(name="n", value=n, low=20))
    if not isinstance(image_size, (int, np.integer)) or image_size < 16:
        raise InvalidInputError(_BAD_N.format(name="image_size", value=image_size, low=16))
    props = tuple(float(p) for p in proportions)
    if len(props) != k or any(p <= 0 for p in props) or abs(sum(props) - 1.0) > 1e-6:
        raise InvalidInputError(_BAD_PROPORTIONS.format(value=proportions, k=k, tones=SKIN_TONES))
    try:
        diff = tuple((float(s), float(e)) for s, e in difficulty)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(_BAD_DIFFICULTY.format(value=difficulty, tones=SKIN_TONES)) from err
    if len(diff) != k or any(not (0 <= s <= 3 and 0 <= e < 0.5) for s, e in diff):
        raise InvalidInputError(_BAD_DIFFICULTY.format(value=difficulty, tones=SKIN_TONES))
    return props, diff


def _soft(d: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Anti-aliased inside mask from a normalised distance (1 on the boundary)."""
    return np.clip((1.0 - d) * scale, 0.0, 1.0)


def _ellipse(u, v, cx, cy, a, b):  # type: ignore[no-untyped-def]
    return np.sqrt(((u - cx) / a) ** 2 + ((v - cy) / b) ** 2)


def _blend(img: np.ndarray, mask: np.ndarray, color: np.ndarray) -> np.ndarray:
    """Paint ``color`` over ``img`` with opacity ``mask``, in place (img += m * (color - img))."""
    diff = color[:, None, None, :].astype(np.float32) - img
    diff *= mask[..., None]
    img += diff
    return img


def _draw(
    rng: np.random.Generator,
    tone_idx: np.ndarray,
    female: np.ndarray,
    signal: np.ndarray,
    size: int,
) -> np.ndarray:
    """Draw a chunk of faces; returns uint8 (m, size, size, 3). Vectorised over images."""
    m = len(tone_idx)
    f32 = np.float32
    g = (np.arange(size, dtype=f32) + 0.5) / size
    u = g[None, None, :]
    v = g[None, :, None]

    def col(x: np.ndarray) -> np.ndarray:
        return x.astype(f32)[:, None, None]

    sgn = np.where(female, 1.0, -1.0)
    # Gender-linked features: signal * sign + per-image noise (independent per feature).
    feats = signal[:, None] * sgn[:, None] + rng.normal(0.0, 0.6, size=(m, 5))
    feats = np.clip(feats, -2.2, 2.2)
    width_f, hair_f, lip_f, beard_f, brow_f = feats.T

    scale = rng.normal(1.0, 0.05, m)
    cx = 0.5 + rng.normal(0, 0.025, m)
    cy = 0.50 + rng.normal(0, 0.02, m)
    a = (0.235 - 0.022 * width_f) * scale
    b = 0.31 * scale
    edge = col(np.full(m, size * 0.25))

    # Background: muted colour with a vertical gradient.
    bg = rng.uniform(0.25, 0.8, (m, 3)).astype(f32)
    img = bg[:, None, None, :] * (0.85 + 0.3 * v[..., None])
    img = np.broadcast_to(img, (m, size, size, 3)).copy()

    skin = np.array([_TONE_RGB[SKIN_TONES[i]] for i in tone_idx], dtype=f32)
    skin = np.clip(
        skin * rng.normal(1.0, 0.04, (m, 1)) + rng.normal(0, 0.015, (m, 3)), 0, 1
    ).astype(f32)
    hair = _HAIR_RGB[rng.integers(0, len(_HAIR_RGB), m)] * rng.uniform(0.8, 1.1, (m, 1)).astype(f32)
    shirt = rng.uniform(0.1, 0.9, (m, 3)).astype(f32)

    C = {k: col(x) for k, x in dict(cx=cx, cy=cy, a=a, b=b).items()}
    # Hair behind the head: down to a length set by the hair feature.
    hair_bottom = col(cy + 0.17 * hair_f * scale)
    d_hair = _ellipse(u, v, C["cx"], C["cy"] - 0.04, C["a"] + 0.07, C["b"] + 0.07)
    long_sides = (np.abs(u - C["cx"]) < C["a"] + 0.07) & (v > C["cy"])
    hair_mask = _soft(d_hair, edge) * np.clip((hair_bottom - v) * size * 0.5, 0, 1)
    hair_mask = np.maximum(
        hair_mask, long_sides * np.clip((hair_bottom - v) * size * 0.5, 0, 1) * (d_hair < 1.6)
    )
    img = _blend(img, hair_mask, hair)
    # Shoulders and shirt, then the neck.
    d_sh = _ellipse(u, v, C["cx"], 1.12, 0.46, 0.28)
    img = _blend(img, _soft(d_sh, edge), shirt)
    neck = (np.abs(u - C["cx"]) < 0.4 * C["a"]) & (v > C["cy"]) & (d_sh > 0.97)
    img = _blend(img, neck.astype(f32) * (v < 0.98), skin * 0.82)
    # Face with side shading; a fringe of hair over the forehead.
    d_face = _ellipse(u, v, C["cx"], C["cy"], C["a"], C["b"])
    face = _soft(d_face, edge)
    shade = 1.0 - 0.22 * ((u - C["cx"]) / C["a"]) ** 2 - 0.1 * (v - C["cy"]) / C["b"]
    face_rgb = skin[:, None, None, :] * shade[..., None]
    face_rgb -= img
    face_rgb *= face[..., None]
    img += face_rgb
    fringe_y = C["cy"] - C["b"] * col(rng.uniform(0.55, 0.75, m))
    fringe = face * np.clip((fringe_y - v) * size * 0.5, 0, 1)
    img = _blend(img, fringe, hair)
    # Stubble / beard on the lower face (more for the "Male"-looking end).
    beard_a = col(np.clip(-0.35 * beard_f, 0, 0.7))
    lower = face * np.clip((v - (C["cy"] + 0.25 * C["b"])) * size * 0.3, 0, 1)
    speckle = 0.6 + 0.4 * rng.random((m, size, size), dtype=f32)
    img = _blend(img, lower * beard_a * speckle, hair * 0.8)
    # Eyes (white, then iris), brows, nose, mouth: drawn on the band of rows they can occupy.
    r0 = max(0, int(np.floor(float((cy - 0.45 * b).min()) * size)) - 1)
    r1 = min(size, int(np.ceil(float((cy + 0.65 * b).max()) * size)) + 1)
    img_full, img, v = img, img[:, r0:r1], v[:, r0:r1]
    ex = 0.4 * C["a"]
    ey = C["cy"] - 0.12 * C["b"]
    for side in (-1.0, 1.0):
        d_eye = _ellipse(u, v, C["cx"] + side * ex, ey, 0.16 * C["a"], 0.07 * C["b"])
        img = _blend(img, _soft(d_eye, edge), np.full((m, 3), 0.95, f32))
        d_iris = _ellipse(u, v, C["cx"] + side * ex, ey, 0.07 * C["a"], 0.065 * C["b"])
        img = _blend(img, _soft(d_iris, edge), np.full((m, 3), 0.12, f32))
        brow_t = col(0.035 - 0.012 * brow_f) * C["b"]
        d_brow = _ellipse(u, v, C["cx"] + side * ex, ey - 0.16 * C["b"], 0.22 * C["a"], brow_t)
        img = _blend(img, _soft(d_brow, edge) * 0.9, hair * 0.9)
    d_nose = _ellipse(u, v, C["cx"], C["cy"] + 0.12 * C["b"], 0.09 * C["a"], 0.16 * C["b"])
    img = _blend(img, _soft(d_nose, edge) * 0.35, skin * 0.6)
    lip_red = np.clip(0.5 + 0.22 * lip_f, 0, 1)[:, None]
    lip = (skin * 0.7 * (1 - lip_red) + np.array([0.75, 0.15, 0.2], f32) * lip_red).astype(f32)
    d_mouth = _ellipse(u, v, C["cx"], C["cy"] + 0.48 * C["b"], 0.3 * C["a"], 0.08 * C["b"])
    img = _blend(img, _soft(d_mouth, edge), lip)
    img = img_full
    # Sensor noise and a light blur.
    img += 0.02 * rng.standard_normal(img.shape, dtype=f32)
    pad = np.pad(img, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    img = (
        4 * img + pad[:, :-2, 1:-1] + pad[:, 2:, 1:-1] + pad[:, 1:-1, :-2] + pad[:, 1:-1, 2:]
    ) / 8.0
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def _params_key(params: dict[str, object]) -> str:
    blob = json.dumps(params, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _generate(folder: Path, params: dict[str, object], props, diff, n, size, seed) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd
    from PIL import Image

    rng = np.random.default_rng([seed, 20240611])
    counts = np.floor(np.array(props) * n).astype(int)
    counts[0] += n - counts.sum()
    tone_idx = rng.permutation(np.repeat(np.arange(len(props)), counts))
    female = rng.random(n) < 0.5
    signal = np.array([diff[t][0] for t in tone_idx])
    noise = np.array([diff[t][1] for t in tone_idx])
    flipped = rng.random(n) < noise
    observed_female = female ^ flipped
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        (tmp / "images").mkdir()
        files = [f"images/{i:05d}.png" for i in range(n)]

        def save(item: tuple[np.ndarray, str]) -> None:
            Image.fromarray(item[0]).save(tmp / item[1], compress_level=1)

        # PNG encoding releases the GIL: a thread pool overlaps it with the next chunk's drawing.
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            pending = []
            for start in range(0, n, 500):
                stop = min(n, start + 500)
                pix = _draw(rng, tone_idx[start:stop], female[start:stop], signal[start:stop], size)
                pending.append(pool.map(save, zip(pix, files[start:stop], strict=True)))
            for result in pending:
                list(result)  # re-raise any write error
        labels = pd.DataFrame(
            {
                "file": files,
                "skin_tone": [SKIN_TONES[t] for t in tone_idx],
                "gender": np.where(observed_female, "Female", "Male"),
                "label_flipped": flipped,
                "signal": signal,
                "label_noise": noise,
            }
        )
        labels.to_csv(tmp / "labels.csv", index=False)
        (tmp / "params.json").write_text(json.dumps(params, sort_keys=True, indent=2) + "\n")
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "labels.csv").is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process made it first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def make_synthfaces(
    n: int = 5000,
    *,
    image_size: int = 64,
    proportions: Sequence[float] = DEFAULT_PROPORTIONS,
    difficulty: Sequence[Sequence[float]] = DEFAULT_DIFFICULTY,
    random_state: int = 0,
    test_size: float = 0.2,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Make (or reuse) the embedded synthetic face set. SYNTHETIC DATA: no real people.

    Face-like RGB images are drawn with NumPy: a face ellipse in one of three skin tones
    (``light``, ``medium``, ``dark``), eyes, brows, nose, mouth, hair and shirt. The target
    ``gender`` (classes ``("Male", "Female")``, Female = code 1) is visible in five features
    (face width, hair length, lip colour, stubble, brow thickness), each drawn as
    ``signal * (+1 Female / -1 Male) + noise``; then a share ``label_noise`` of labels is flipped
    (column ``label_flipped``). Both knobs are set per skin tone, so a disparity of known size
    can be planted and recovered. By default the dark 5% has a weak signal (0.25) and 20% label
    noise, so its best achievable accuracy is under 80% while the light majority is near 100%.

    Images are written once as PNG files plus ``labels.csv`` into
    ``<cache>/synthfaces/<hash of parameters>/`` (atomically: a temporary folder renamed into
    place) and reused afterwards.

    Parameters
    ----------
    n : int, default 5000
        Number of images.
    image_size : int, default 64
        Side of the square images, in pixels.
    proportions : sequence of 3 floats, default (0.80, 0.15, 0.05)
        Share of light, medium and dark skin tones (as skewed as scraped face sets).
    difficulty : sequence of 3 (signal, label_noise) pairs
        Per skin tone: signal strength (0 = no visual signal, 1 = clear) and share of flipped
        labels. Default ``((1.0, 0.0), (0.8, 0.03), (0.25, 0.20))``.
    random_state : int, default 0
        Seed of the images and of the stratified (skin tone x label) 80/20 split.
    test_size : float, default 0.2
        Share of each stratum in the test split.
    cache_dir : path, optional
        Cache root; default ``$FAIRSUITE_CACHE``, else the user cache directory.

    Returns
    -------
    Dataset
        ``synthetic=True``; the Table has ``is_synthetic`` (all True), ``skin_tone``, ``gender``,
        their ``native_*`` copies, ``label_flipped``, ``y``, ``split``, ``path`` and ``row_id``.
    """
    import pandas as pd

    from fairsuite.data._cards import get_card

    props, diff = _validate(n, image_size, proportions, difficulty)
    params: dict[str, object] = {
        "version": _GENERATOR_VERSION,
        "n": int(n),
        "image_size": int(image_size),
        "proportions": list(props),
        "difficulty": [list(d) for d in diff],
        "random_state": int(random_state),
    }
    folder = resolve_cache_dir(cache_dir) / "synthfaces" / _params_key(params)
    if not (folder / "labels.csv").is_file():
        _generate(folder, params, props, diff, int(n), int(image_size), int(random_state))
    labels = pd.read_csv(folder / "labels.csv", dtype={"skin_tone": str, "gender": str})
    table = pd.DataFrame({"row_id": labels["file"].to_numpy()})
    table["skin_tone"] = labels["skin_tone"].to_numpy()
    table["native_skin_tone"] = labels["skin_tone"].to_numpy()
    table["gender"] = labels["gender"].to_numpy()
    table["native_gender"] = labels["gender"].to_numpy()
    table["y"] = (labels["gender"] == "Female").to_numpy(dtype=np.int64)
    strata = table["skin_tone"] + "|" + table["y"].astype(str)
    table["split"] = stratified_split(strata, test_size=test_size, random_state=random_state)
    table["path"] = [str(folder / f) for f in labels["file"]]
    table["label_flipped"] = labels["label_flipped"].astype(bool).to_numpy()
    table["is_synthetic"] = True
    report = LoadReport(
        rows_read=len(labels),
        rows_kept=len(table),
        images_listed=len(labels),
        images_present=len(labels),
        notes=("synthetic data generated by fairsuite (synthfaces); no real people",),
    )
    return Dataset(
        name="synthfaces",
        kind="image",
        table=table,
        task="gender",
        classes=_CLASSES,
        sensitive=("skin_tone", "gender"),
        features=(),
        root=folder,
        report=report,
        card=get_card("synthfaces"),
        checksums={"params": _params_key(params)},
        synthetic=True,
    )
