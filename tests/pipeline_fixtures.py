"""Tiny versions of the real params.yaml and generated mirrors of every dataset (no tests here).

The MNIST architecture stays the paper's; the 8000-unit TFD and CIFAR-10 nets are narrowed (their
real sizes are tested in test_models.py), and every dataset, epoch count and sample count is tiny,
so the whole pipeline runs in about a minute on a CPU.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from fixtures import make_cifar10_archive, make_idx_mirror, make_lfw_archive, make_tfd_mat

N_TRAIN, N_TEST = 300, 100  # MNIST-format files
CIFAR_PER_BATCH = 40  # 5 x 40 = 200 training records, 40 test records
LFW_PEOPLE = {f"person_{i:02d}": 5 for i in range(12)}  # 60 face images
TINY_TOY1D = {  # stage toy1d in about 1 s (the default run takes ~20 s)
    **{"pretrain_iters": 50, "converge_steps": 40, "iterations": 30, "eval_every": 10},
    **{"kde_samples": 3000, "mc_samples": 2000, "null_repeats": 2, "grid_points": 301},
}


def make_mirror(mirror: Path) -> dict[str, dict[str, str]]:
    """Tiny files in the real formats for every downloadable dataset: {dataset: {file: sha}}."""
    mirror.mkdir(parents=True, exist_ok=True)
    lfw_sha, _, _ = make_lfw_archive(mirror, LFW_PEOPLE)
    return {
        "mnist": make_idx_mirror(mirror, N_TRAIN, N_TEST, seed=0),
        "cifar10": make_cifar10_archive(mirror, CIFAR_PER_BATCH, seed=1),
        "faces": {"lfw-funneled.tgz": lfw_sha},
    }


def make_tfd_file(path: Path) -> Path:
    """A TFD_48x48.mat with 150 unlabeled and 60 labeled faces (20 valid, 20 test per fold)."""
    make_tfd_mat(path, n_unlabeled=150, n_labeled=60, seed=2)
    return path


SPLITS = {
    "mnist": {"train": [0, 200], "valid": [200, N_TRAIN]},
    "cifar10": {"train": [0, 160], "valid": [160, 200]},
    "faces": {"train": [0, 40], "valid": [40, 50], "test": [50, 60]},
}


def tiny_params(
    raw: dict, mirror: Path, hashes: dict[str, dict[str, str]], budget: str = "quick"
) -> dict:
    """The project's params with every dataset served from ``mirror`` and every count tiny.

    TFD starts absent (``data.tfd.path: null``), as for a user without the file.
    """
    p = copy.deepcopy(raw)
    p["base"].update(budget=budget, device="cpu")
    for name, files in hashes.items():
        entry = p["data"][name]
        entry["mirrors"] = [str(mirror)]
        entry["files"] = {file: [sha] for file, sha in files.items()}
        entry["splits"] = SPLITS[name]
    for exp in p["experiments"].values():
        exp["epochs"] = 2
        exp["quick"] = {"epochs": 2, "train_examples": 150}
        if exp.get("pretrain_epochs"):
            exp["pretrain_epochs"] = 1
        exp["valid_parzen"].update(n_samples=40, n_valid=30)
        if exp["dataset"] not in ("mnist", "fashion_mnist"):
            exp["G"] = [narrow(layer) for layer in exp["G"]]
            exp["D"] = [narrow(layer) for layer in exp["D"]]
    p["sample"].update(n_samples=120, batch_size=50)
    p["parzen"].update(n_valid=50, batch_size=40)
    if "toy1d" in p:
        p["toy1d"].update(TINY_TOY1D)
    return p


def narrow(layer: dict) -> dict:
    """A much narrower copy of a big layer (shapes of the data are kept)."""
    layer = dict(layer)
    if layer["act"] == "deconv":
        layer["reshape"] = [8, 10, 10]
    elif layer["act"] == "conv_maxout":
        layer["units"] = max(2, layer["units"] // 16)
    elif layer["units"] == 8000 and layer["act"] == "sigmoid":
        layer["units"] = 800  # = 8 x 10 x 10 for the deconv generator
    elif layer["units"] >= 500 and layer["units"] not in (784, 2304, 3072):
        layer["units"] = 32 if layer["act"] != "maxout" else 8
    if layer.get("sparse_init"):
        layer["sparse_init"] = 10
    return layer


def write_tiny_project_params(path: Path, raw: dict, mirror: Path, budget: str = "quick") -> dict:
    params = tiny_params(raw, mirror, make_mirror(mirror), budget)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return params
