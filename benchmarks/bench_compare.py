"""Compare throughput: one `compare` of two face datasets on the serial, local and Ray executors.

The N models of a compare are independent, so the local and Ray executors train them at once
(one task per model). Every executor runs the same compare in the same invocation, so the ratio
is measured under the same machine load; the decoded-image cache is built once, before the
first timing, as a user's second compare finds it.

    .venv/bin/python benchmarks/bench_compare.py --data-dir ../shared/data
    .venv/bin/python benchmarks/bench_compare.py --executors serial,local,ray --pin-threads

Torch on the CPU sums in an order that depends on its thread count (serial: every core; local:
cores / jobs; Ray: one CPU per model), so the cells agree exactly only with ``--pin-threads``
(every model trains with one thread; the serial run is then slower, which the ratio shows).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--datasets", default="utkface,fairface")
    ap.add_argument("--train-size", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--image-size", type=int, default=48)
    ap.add_argument("--model", default="small_cnn")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--executors", default="serial,local")
    ap.add_argument("--pin-threads", action="store_true",
                    help="One thread per model on every executor (bit-identical cells).")
    args = ap.parse_args(argv)
    if args.pin_threads:
        os.environ["FAIRSUITE_WORKER_THREADS"] = "1"
    from fairsuite.experiments import compare

    names = args.datasets.split(",")
    settings = dict(data_dir=args.data_dir, allow_missing=True, model=args.model,
                    epochs=args.epochs, image_size=args.image_size, n_boot=0, device="cpu")
    print(f"compare {' vs '.join(names)}: {args.train_size} training rows per model, "
          f"{args.model} at {args.image_size} px, {args.epochs} epochs"
          + (", one thread per model" if args.pin_threads else ""))
    compare(names, train_size=200, epochs=1, **{k: v for k, v in settings.items()
                                                if k != "epochs"})  # warm the image cache
    seconds: dict[str, float] = {}
    cells: dict[str, str] = {}
    for name in args.executors.split(","):
        jobs = args.jobs or (len(os.sched_getaffinity(0)) if args.pin_threads else None)
        t0 = time.perf_counter()
        doc = compare(names, train_size=args.train_size, executor=name, jobs=jobs, **settings)
        seconds[name] = time.perf_counter() - t0
        cells[name] = json.dumps(sorted(doc["cells"], key=lambda c: (c["train"], c["test"])),
                                 sort_keys=True)
        threads = {d: t["settings"].get("threads") for d, t in doc["training"].items()}
        acc = {f"{c['train']}->{c['test']}": round(c["metrics"]["overall"]["accuracy"]["value"], 3)
               for c in doc["cells"]}
        print(f"{name:<7} {seconds[name]:7.1f} s  threads per model {threads}  accuracy {acc}")
    if "serial" in seconds:
        for name, s in seconds.items():
            if name != "serial":
                print(f"ratio serial/{name}: {seconds['serial'] / s:.2f}x faster on {name}")
                print(f"{name}: cells identical to serial: {cells[name] == cells['serial']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
