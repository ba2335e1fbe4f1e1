"""Wall time of the train, sample and parzen stages of each experiment under base.budget=quick.

Fabricates prepared datasets of the real sizes and shapes (random pixels; the real files cannot be
downloaded here) in a temporary root, then runs the real stage modules one after another with the
repository's params.yaml switched to the quick budget, and prints the seconds of each stage.
Random data make the numbers meaningless but the time right: the cost depends only on shapes.

    python bench/quick_times.py                        # every paper experiment
    python bench/quick_times.py --only mnist cifar10_fc --budget paper   # (paper: hours on CPU)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from ganrepro.data.prepare import write_prepared

REPO = Path(__file__).resolve().parents[1]
SHAPES = {  # dataset: (image shape, train, valid, test counts, value range)
    "mnist": ((1, 28, 28), 50_000, 10_000, 10_000),
    "cifar10": ((3, 32, 32), 40_000, 10_000, 10_000),
    "faces": ((1, 48, 48), 11_233, 1_000, 1_000),
}
EXPERIMENTS = {
    "mnist": "mnist",
    "faces": "faces",
    "cifar10_fc": "cifar10",
    "cifar10_conv": "cifar10",
}


def fabricate(root: Path, dataset: str) -> None:
    shape, n_train, n_valid, n_test = SHAPES[dataset]
    rng = np.random.default_rng(0)
    d = int(np.prod(shape))
    arrays = {
        k: rng.random((n, d), dtype=np.float32)
        for k, n in (("train", n_train), ("valid", n_valid), ("test", n_test))
    }
    info = {"dataset": dataset, "image_shape": list(shape), "note": "random, for timing only"}
    write_prepared(root / "data" / "prepared" / dataset, arrays, info)


def run_stage(stage: str, exp: str, params: Path, root: Path) -> float:
    t0 = time.perf_counter()
    cmd = [
        sys.executable,
        str(REPO / "stages" / f"{stage}.py"),
        exp,
        "--params",
        str(params),
        "--root",
        str(root),
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=list(EXPERIMENTS))
    ap.add_argument("--budget", default="quick", choices=["quick", "paper"])
    args = ap.parse_args()
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["base"].update(budget=args.budget, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        params = root / "params.yaml"
        params.write_text(yaml.safe_dump(raw, sort_keys=False))
        for dataset in sorted({EXPERIMENTS[e] for e in args.only}):
            fabricate(root, dataset)
        print(f"{'experiment':14s} {'train':>8s} {'sample':>8s} {'parzen':>8s} {'total':>8s}  (s)")
        for exp in args.only:
            t = [run_stage(s, exp, params, root) for s in ("train", "sample", "parzen")]
            print(f"{exp:14s} {t[0]:8.1f} {t[1]:8.1f} {t[2]:8.1f} {sum(t):8.1f}", flush=True)


if __name__ == "__main__":
    main()
