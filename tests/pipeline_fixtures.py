"""Tiny versions of the real params.yaml and a generated MNIST mirror (no tests here).

The architecture stays the paper's; only the data size, epochs and sample counts shrink, so the
whole pipeline runs in seconds on a CPU.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from fixtures import make_idx_mirror

N_TRAIN, N_TEST = 300, 100


def tiny_params(raw: dict, mirror: Path, hashes: dict[str, str], budget: str = "quick") -> dict:
    """The project's params with MNIST served from ``mirror`` and every count made tiny."""
    p = copy.deepcopy(raw)
    p["base"].update(budget=budget, device="cpu", quick={"epochs": 2, "train_examples": 150})
    mnist = p["data"]["mnist"]
    mnist["mirrors"] = [str(mirror)]
    mnist["files"] = {name: [h] for name, h in hashes.items()}
    mnist["splits"] = {"train": [0, 200], "valid": [200, N_TRAIN]}
    for exp in p["experiments"].values():
        exp["epochs"] = 2
        exp["valid_parzen"].update(n_samples=40, n_valid=30)
    p["sample"].update(n_samples=120, batch_size=50)
    p["parzen"].update(n_valid=50, batch_size=40)
    return p


def write_tiny_project_params(path: Path, raw: dict, mirror: Path, budget: str = "quick") -> dict:
    hashes = make_idx_mirror(mirror, N_TRAIN, N_TEST, seed=0)
    params = tiny_params(raw, mirror, hashes, budget)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return params
