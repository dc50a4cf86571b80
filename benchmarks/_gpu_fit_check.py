"""End-to-end check of ``fairsuite.train.fit`` on whatever device "auto" picks (gpu.sh runs it).

Trains on the FairFace training images present (80/20 split of them, stratified by race x
gender), predicts the held-out fifth, saves and reloads the model, and prints accuracy,
per-epoch throughput of the real ``fit`` loop (validation included in the epoch time), and
whether the reloaded model predicts the same.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True)
    p.add_argument("--image-size", type=int, default=112)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--models", default="resnet18")
    args = p.parse_args()

    from fairsuite.data._dataset import Dataset
    from fairsuite.train import fit, load_model

    root = Path(args.data_dir) / "fairface"
    df = pd.read_csv(root / "images_present.csv")
    df = df[df["file"].str.startswith("train/")].reset_index(drop=True)
    rng = np.random.default_rng(0)
    split = np.where(rng.random(len(df)) < 0.8, "train", "test")
    table = pd.DataFrame(
        {
            "path": [str(root / f) for f in df["file"]],
            "y": (df["gender"] == "Female").to_numpy(dtype=np.int64),
            "race": df["race"],
            "gender": df["gender"],
            "split": split,
            "row_id": df["file"],
        }
    )
    ds = Dataset(
        name="fairface-train-present",
        kind="image",
        table=table,
        task="gender",
        classes=("Male", "Female"),
        sensitive=("race", "gender"),
    )
    test = ds.split_table("test")
    for model_name in args.models.split(","):
        t0 = time.perf_counter()
        m = fit(
            ds, model=model_name, image_size=args.image_size, epochs=args.epochs, progress=False
        )
        wall = time.perf_counter() - t0
        pred = m.predict(test)
        acc = float((pred == test["y"].to_numpy()).mean())
        ips = [round(h["images_per_s"]) for h in m.history]
        print(
            f"fit {model_name} on {m.device} ({m.config['precision']}) {args.image_size}px: "
            f"{wall:.1f}s for {len(m.history)} epochs (cache build included), train images/s per "
            f"epoch {ips}, val acc {[round(h['val_accuracy'], 3) for h in m.history]}, "
            f"held-out acc {acc:.3f}, best epoch {m.best_epoch}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            m.save(tmp)
            back = load_model(tmp)
            same = np.array_equal(back.predict(test), pred)
            print(f"save/load round trip on {back.device}: identical predictions = {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
