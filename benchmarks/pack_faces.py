"""Pack FairFace and UTKFace for a GPU machine: labels as they are, images re-encoded at 112 px.

The GPU machine cannot reach the data and its working tree is limited to 64 MiB, so the images
travel re-encoded (112 x 112, JPEG quality 70: about 38 MiB for the 22,066 images in the shared
data) in an archive laid out as a data root (``data/fairface/...``, ``data/utkface/...``).
Label files are copied byte for byte, so their checksums still match the cards.

    .venv/bin/python benchmarks/pack_faces.py --data-dir ../shared/data --out .gpu_data/faces112.tgz
"""

from __future__ import annotations

import argparse
import shutil
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LABELS = [
    "fairface/fairface_label_train.csv",
    "fairface/fairface_label_val.csv",
    "fairface/images_present.csv",
    "utkface/images_present.csv",
    "utkface/utkface_all_filenames.txt",
]
IMAGE_DIRS = ["fairface/train", "fairface/val", "utkface/UTKFace"]


def main() -> None:
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--out", default=".gpu_data/faces112.tgz")
    ap.add_argument("--size", type=int, default=112)
    args = ap.parse_args()
    src = Path(args.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "data"
        for rel in LABELS:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / rel, dst / rel)
        jobs = []
        for sub in IMAGE_DIRS:
            (dst / sub).mkdir(parents=True, exist_ok=True)
            jobs += [(p, dst / sub / p.name) for p in sorted((src / sub).iterdir())]

        def convert(job: tuple[Path, Path]) -> None:
            with Image.open(job[0]) as im:
                im = im.convert("RGB").resize((args.size, args.size), Image.BILINEAR)
                im.save(job[1], "JPEG", quality=70)

        with ThreadPoolExecutor(4) as ex:
            list(ex.map(convert, jobs))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(args.out, "w:gz") as tf:
            tf.add(dst, arcname="data")
    print(f"{len(jobs)} images -> {args.out} ({Path(args.out).stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
