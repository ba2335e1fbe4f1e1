"""Stage ``parzen@<exp>``: the authors' Parzen-window log-likelihood (parzen_ll.py, paper §5).

Reads:  samples/<exp>/ (samples.npz, info.json); data/prepared/<dataset>/ (valid and test
        splits); params ``parzen``.
Writes: metrics/parzen/<exp>.json (ll_mean, ll_se, sigma, n_samples, seed, ...; a DVC metric) and
        plots/parzen/<exp>.tsv (mean validation LL for every sigma of the grid; a DVC plot).
        Skipped upstream work gives {"status": "not run", "reason": ...} and an empty sweep.

Protocol: sigma = argmax over logspace(-1, 0, 10) of the mean LL on the first 1,000 validation
images; then the mean LL of every test image under that sigma, +- std / sqrt(N) (ddof 0).

Run alone:  python stages/parzen.py mnist
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from ganrepro import config, io, parzen
from ganrepro.data.prepare import load_prepared

SWEEP_HEADER = "sigma\tvalid_ll\n"


def metrics_of(result: parzen.ParzenResult, info: dict) -> dict:
    keep = ("experiment", "dataset", "table_column", "budget")
    return {
        **{k: info[k] for k in keep},
        "status": "ok",
        "ll_mean": result.ll_mean,
        "ll_se": result.ll_se,
        "sigma": result.sigma,
        "n_samples": result.n_samples,
        "n_test": result.n_test,
        "n_valid": result.n_valid,
        "seed": info["sample_seed"],
        "precision": result.dtype,
        "seconds": round(result.seconds, 2),
    }


def sweep_tsv(result: parzen.ParzenResult) -> str:
    rows = (f"{s:.6g}\t{m:.6f}" for s, m in zip(result.sigmas, result.valid_means, strict=True))
    return SWEEP_HEADER + "\n".join(rows) + "\n"


def run(exp_name: str, params_path: Path, root: Path) -> None:
    cfg = config.parzen(config.load_params(params_path))
    samples_dir = root / "samples" / exp_name
    metrics_path = root / "metrics" / "parzen" / f"{exp_name}.json"
    sweep_path = root / "plots" / "parzen" / f"{exp_name}.tsv"
    reason = io.skipped_reason(samples_dir)
    if reason is not None:
        io.write_json(
            metrics_path, {"experiment": exp_name, "status": "not run", "reason": reason}
        )
        io.write_text(sweep_path, SWEEP_HEADER)
        return
    info = io.read_json(samples_dir / "info.json")
    data = load_prepared(root / "data" / "prepared" / info["dataset"])
    valid = data.valid if cfg.n_valid == 0 else data.valid[: cfg.n_valid]
    with np.load(samples_dir / "samples.npz") as npz:
        mu = npz["x"]
    result = parzen.evaluate(
        mu,
        valid,
        data.test,
        cfg.sigmas(),
        batch_size=cfg.batch_size,
        dtype=getattr(torch, cfg.precision),
        device=None,
    )
    print(
        f"parzen@{exp_name}: {result.ll_mean:.2f} +- {result.ll_se:.2f} nats "
        f"(sigma {result.sigma:.4g})",
        file=sys.stderr,
    )
    io.write_json(metrics_path, metrics_of(result, info))
    io.write_text(sweep_path, sweep_tsv(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="key of the experiments section of params.yaml")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--root", type=Path, default=Path("."), help="project root for all paths")
    args = parser.parse_args(argv)
    return io.run_main(lambda: run(args.experiment, args.params, args.root))


if __name__ == "__main__":
    sys.exit(main())
