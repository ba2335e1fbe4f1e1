"""Stage ``parzen@<exp>``: the authors' Parzen-window log-likelihood (parzen_ll.py, paper §5).

Reads:  samples/<exp>/ (samples.npz, info.json); data/prepared/<dataset>/ (valid and test
        splits); params ``parzen``.
Writes: metrics/parzen/<exp>.json (ll_mean, ll_se, sigma, n_samples, seed, ...; a DVC metric) and
        plots/parzen/<exp>.tsv (mean validation LL for every sigma of the grid; a DVC plot).
        Skipped upstream work gives {"status": "not run", "reason": ...} and an empty sweep.

Protocol: sigma = argmax over logspace(-1, 0, 10) of the mean LL on the first 1,000 validation
images; then the mean LL of every test image under that sigma, +- std / sqrt(N) (ddof 0).
TFD (5 folds): sigma chosen per fold on the fold's whole valid set and scored on its test set;
the mean of the 5 fold means +- their std (ddof 0) / sqrt(5).

Run alone:  python stages/parzen.py mnist
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from ganrepro import config, io, parzen
from ganrepro.data.prepare import load_prepared

SWEEP_HEADER = "sigma\tvalid_ll\n"


def metrics_of(result: parzen.ParzenResult, info: dict) -> dict:
    keep = ("experiment", "dataset", "table_column", "note", "budget")
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


def sweep_tsv(results: list[parzen.ParzenResult]) -> str:
    """Mean validation LL per sigma; with folds, the mean over folds."""
    means = np.mean([r.valid_means for r in results], axis=0)
    rows = (f"{s:.6g}\t{m:.6f}" for s, m in zip(results[0].sigmas, means, strict=True))
    return SWEEP_HEADER + "\n".join(rows) + "\n"


def fold_metrics(results: list[parzen.ParzenResult]) -> dict:
    """TFD (Table 1 caption): mean over folds of each fold's mean test LL, with the standard error
    across folds se = std(ddof=0) / sqrt(n_folds) (numpy's std, as parzen_ll.py uses for MNIST;
    the caption does not say which)."""
    means = np.array([r.ll_mean for r in results])
    return {
        "ll_mean": float(means.mean()),
        "ll_se": float(means.std() / np.sqrt(len(means))),
        "sigma": float(np.median([r.sigma for r in results])),  # per fold: see "folds"
        "n_test": sum(r.n_test for r in results),
        "n_valid": sum(r.n_valid for r in results),
        "folds": [
            {"fold": k, "ll_mean": r.ll_mean, "ll_se": r.ll_se, "sigma": r.sigma}
            for k, r in enumerate(results)
        ],
        "se_formula": "std over folds (ddof=0) / sqrt(n_folds)",
    }


def run(exp_name: str, params_path: Path, root: Path) -> None:
    cfg = config.parzen(config.load_params(params_path))
    samples_dir = root / "samples" / exp_name
    metrics_path = root / "metrics" / "parzen" / f"{exp_name}.json"
    sweep_path = root / "plots" / "parzen" / f"{exp_name}.tsv"
    marker = io.skip_marker(samples_dir)
    if marker is not None:
        io.write_json(metrics_path, {"experiment": exp_name, **marker})
        io.write_text(sweep_path, SWEEP_HEADER)
        return
    info = io.read_json(samples_dir / "info.json")
    data = load_prepared(root / "data" / "prepared" / info["dataset"])
    with np.load(samples_dir / "samples.npz") as npz:
        mu = npz["x"]
    kw = {"batch_size": cfg.batch_size, "dtype": getattr(torch, cfg.precision), "device": None}
    if data.folds:  # TFD: sigma chosen on each fold's whole valid set, scored on its test set
        results = [parzen.evaluate(mu, v, t, cfg.sigmas(), **kw) for v, t in data.folds]
        metrics = metrics_of(results[0], info) | fold_metrics(results)
    else:
        valid = data.valid if cfg.n_valid == 0 else data.valid[: cfg.n_valid]
        results = [parzen.evaluate(mu, valid, data.test, cfg.sigmas(), **kw)]
        metrics = metrics_of(results[0], info)
    print(
        f"parzen@{exp_name}: {metrics['ll_mean']:.2f} +- {metrics['ll_se']:.2f} nats "
        f"(sigma {metrics['sigma']})",
        file=sys.stderr,
    )
    io.write_json(metrics_path, metrics)
    io.write_text(sweep_path, sweep_tsv(results))


def main(argv: list[str] | None = None) -> int:
    args = io.parse_stage_args(io.stage_parser(__doc__, "experiment", io.EXPERIMENT_HELP), argv)
    return io.run_main(lambda: run(args.experiment, args.params, args.root))


if __name__ == "__main__":
    sys.exit(main())
