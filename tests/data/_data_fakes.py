"""Fake datasets in their real layouts (tiny), and helpers to copy a few real files."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

FAIRFACE_HEADER = "file,age,gender,race,service_test\n"
_JPEG: bytes | None = None


def jpeg_bytes() -> bytes:
    """A tiny valid JPEG (made once with Pillow)."""
    global _JPEG
    if _JPEG is None:
        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (200, 150, 120)).save(buf, format="JPEG")
        _JPEG = buf.getvalue()
    return _JPEG


FAIRFACE_TRAIN = [
    ("train/1.jpg", "20-29", "Male", "White", "True"),
    ("train/2.jpg", "30-39", "Female", "Black", "False"),
    ("train/3.jpg", "3-9", "Female", "East Asian", "True"),
    ("train/4.jpg", "more than 70", "Male", "Latino_Hispanic", "False"),
]
FAIRFACE_VAL = [
    ("val/1.jpg", "3-9", "Male", "East Asian", "False"),
    ("val/2.jpg", "50-59", "Female", "Middle Eastern", "True"),
]


def write_fairface(root: Path, *, train=FAIRFACE_TRAIN, val=FAIRFACE_VAL, images=True) -> Path:  # noqa: ANN001
    folder = root / "fairface"
    for split, rows in (("train", train), ("val", val)):
        (folder / split).mkdir(parents=True, exist_ok=True)
        text = FAIRFACE_HEADER + "".join(",".join(r) + "\n" for r in rows)
        (folder / f"fairface_label_{split}.csv").write_text(text)
        if images:
            for r in rows:
                (folder / r[0]).write_bytes(jpeg_bytes())
    return folder


UTK_NAMES = [
    "25_0_0_20170116174525125.jpg.chip.jpg",
    "26_1_0_20170116174525126.jpg.chip.jpg",
    "1_0_1_20170116174525127.jpg.chip.jpg",
    "75_1_2_20170116174525128.jpg.chip.jpg",
    "40_0_3_20170116174525129.jpg.chip.jpg",
    "33_1_4_20170116174525130.jpg.chip.jpg",
]


def write_utkface(root: Path, names=UTK_NAMES) -> Path:  # noqa: ANN001
    folder = root / "utkface" / "UTKFace"
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(jpeg_bytes())
    return folder


def copy_real(data_root: Path, tmp: Path, name: str, files: list[str]) -> Path:
    """Copy a few real files of a tabular dataset into ``tmp/<name>/``."""
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(data_root / name / f, folder / f)
    return folder
