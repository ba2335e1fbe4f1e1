"""The Toronto Face Database from the user's own ``TFD_48x48.mat``: checks, folds and splits.

TFD cannot be downloaded (datasets.md §3.2): the user asks its collector for the file and points
``data.tfd.path`` at it. The file (paper-settings §5, datasets.md §3.3) is a MATLAB .mat with
``images`` (N, 48, 48) uint8, ``folds`` (N, 5) with codes 0 = unlabeled, 1 = train, 2 = valid,
3 = test per official fold, and ``labs_ex`` / ``labs_id`` (N values each). It is read with
``scipy.io.loadmat``; a MATLAB v7.3 (HDF5) file is refused with a message saying how to re-save it.

Splits as the authors (pylearn2 ``TFD(which_set, fold, scale=True)``): train = the unlabeled
images (code 0 in fold 0's column; the same in every fold), valid / test = fold 0's codes 2 / 3,
and for the 5-fold Parzen protocol every fold k's valid and test sets as ``fold{k}_valid`` /
``fold{k}_test``. Rows keep file order. Pixels are uint8 / 255 as float32 in [0, 1], flattened
row-major to 2304 (pylearn2's b01c order, which for one channel is row-major).

This module does not import :mod:`ganrepro.data.prepare`, so the download stage (which checks the
file before copying it) depends on it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from ganrepro.config import Dataset
from ganrepro.io import StageError, read_json

FILE = "TFD_48x48.mat"  # the name the file gets in data/raw/tfd/
HOW_TO_OBTAIN = (
    "TFD is not publicly downloadable; request TFD_48x48.mat from its collector Josh Susskind "
    "(see README), then set data.tfd.path to the file"
)
IMAGE_SIDE = 48
IMAGE_SHAPE = (1, IMAGE_SIDE, IMAGE_SIDE)
N_FOLDS = 5
CODES = {"unlabeled": 0, "train": 1, "valid": 2, "test": 3}  # pylearn2 TFD.mapper
KEYS = ("images", "folds", "labs_ex", "labs_id")


@dataclass(frozen=True, eq=False)
class TFD:
    """The checked contents of a TFD .mat file."""

    images: np.ndarray  # (N, 48, 48) uint8
    folds: np.ndarray  # (N, 5) uint8 codes 0-3


def load_mat(path: str | Path) -> dict:
    """``scipy.io.loadmat`` of ``path``, with every failure a one-line StageError."""
    path = Path(path)
    if not path.is_file():
        raise StageError(f"{path}: file not found")
    try:
        return scipy.io.loadmat(path)
    except NotImplementedError:  # scipy's answer to MATLAB v7.3 files
        raise StageError(
            f"{path}: MATLAB v7.3 (HDF5) .mat file, which scipy.io.loadmat cannot read; "
            "re-save it in MATLAB with save(..., '-v7')"
        ) from None
    except (scipy.io.matlab.MatReadError, ValueError, TypeError, OSError, EOFError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise StageError(f"{path}: not a readable MATLAB .mat file ({reason})") from None


def check_contents(mat: dict, where: str) -> TFD:
    """Check keys, shapes, dtypes and fold codes of a loaded TFD .mat; ``where`` names the file."""
    missing = [k for k in KEYS if k not in mat]
    if missing:
        found = ", ".join(sorted(k for k in mat if not k.startswith("__"))) or "none"
        raise StageError(f"{where}: missing variable '{missing[0]}' (found: {found})")
    images, folds = mat["images"], mat["folds"]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise StageError(f"{where}: 'images' has shape {list(images.shape)}, expected [N, 48, 48]")
    if images.dtype != np.uint8:
        raise StageError(f"{where}: 'images' has dtype {images.dtype}, expected uint8")
    n = len(images)
    if folds.shape != (n, N_FOLDS):
        raise StageError(
            f"{where}: 'folds' has shape {list(folds.shape)}, expected [{n}, {N_FOLDS}] "
            "(one column per official fold)"
        )
    if not np.issubdtype(folds.dtype, np.number):
        raise StageError(f"{where}: 'folds' has dtype {folds.dtype}, expected numbers")
    bad = sorted({float(v) for v in np.unique(folds)} - {float(c) for c in CODES.values()})
    if bad:
        raise StageError(
            f"{where}: 'folds' holds code {bad[0]:g}, expected 0 (unlabeled), 1 (train), "
            "2 (valid) or 3 (test)"
        )
    if not (folds[:, 0] == CODES["unlabeled"]).any():
        raise StageError(f"{where}: no unlabeled images (code 0 in fold 0) to train on")
    for k in range(N_FOLDS):
        for split in ("valid", "test"):
            if not (folds[:, k] == CODES[split]).any():
                raise StageError(
                    f"{where}: fold {k} has no {split} images (code {CODES[split]} in column {k})"
                )
    for key in ("labs_ex", "labs_id"):
        if mat[key].size != n:
            raise StageError(
                f"{where}: '{key}' has {mat[key].size} values, expected {n} (one per image)"
            )
    return TFD(images=images, folds=folds.astype(np.uint8))


def read_tfd(path: str | Path) -> TFD:
    """Load and check a ``TFD_48x48.mat``."""
    return check_contents(load_mat(path), str(path))


def accepted_hashes(ds: Dataset, name: str) -> tuple[str, ...]:
    """The SHA-256s params accept for the file (empty: none known, any content is taken)."""
    unknown = sorted(set(ds.files) - {FILE})
    if unknown:
        raise StageError(
            f"params.yaml: 'data.{name}.files' may list only {FILE}, not {unknown[0]}"
        )
    return ds.files.get(FILE, ())


def source_hash(raw_dir: str | Path, ds: Dataset, name: str) -> dict[str, str]:
    """{file: sha256} of the copied file, from the download manifest (checked against params)."""
    manifest_path = Path(raw_dir) / "manifest.json"
    if not manifest_path.is_file():
        raise StageError(f"{manifest_path}: file not found (run the download stage for {name})")
    sha = read_json(manifest_path).get(FILE, {}).get("sha256", "missing")
    accepted = accepted_hashes(ds, name)
    if sha == "missing" or (accepted and sha not in accepted):
        raise StageError(
            f"{manifest_path}: sha256 of {FILE} is {sha}, not accepted by 'data.{name}.files' "
            "(rerun the download stage)"
        )
    return {FILE: sha}


def to_unit_float(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 48, 48) -> float32 (N, 2304), value / 255 in [0, 1], row-major."""
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


def split_tfd(tfd: TFD) -> dict[str, np.ndarray]:
    """train (unlabeled), valid / test (fold 0) and fold{k}_valid / fold{k}_test for every k."""
    folds = {
        f"fold{k}_{split}": to_unit_float(tfd.images[tfd.folds[:, k] == CODES[split]])
        for k in range(N_FOLDS)
        for split in ("valid", "test")
    }
    train = tfd.images[tfd.folds[:, 0] == CODES["unlabeled"]]
    return {
        "train": to_unit_float(train),
        "valid": folds["fold0_valid"],
        "test": folds["fold0_test"],
        **folds,
    }


def make_info(name: str, ds: Dataset, arrays: dict, hashes: dict[str, str]) -> dict:
    """The provenance record written next to the arrays."""
    return {
        "dataset": name,
        "format": ds.format,
        "image_shape": list(IMAGE_SHAPE),
        "counts": {k: len(v) for k, v in arrays.items()},
        "folds": N_FOLDS,
        "splits": {
            "train": "unlabeled images (folds[:, 0] == 0)",
            "valid": "fold 0 valid (folds[:, 0] == 2)",
            "test": "fold 0 test (folds[:, 0] == 3)",
            "fold{k}_valid": "folds[:, k] == 2, k = 0..4",
            "fold{k}_test": "folds[:, k] == 3, k = 0..4",
        },
        "pixels": "uint8 / 255 as float32 in [0, 1], flattened row-major to 2304",
        "preprocessing": "none",
        "source_sha256": hashes,
    }


def prepare(raw_dir: str | Path, ds: Dataset, name: str) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and info of the prepared TFD (``raw_dir`` holds the download stage's copy)."""
    raw_dir = Path(raw_dir)
    if ds.splits:
        raise StageError(
            f"params.yaml: 'data.{name}.splits' must be empty: TFD's splits are its folds"
        )
    hashes = source_hash(raw_dir, ds, name)
    arrays = split_tfd(read_tfd(raw_dir / FILE))
    return arrays, make_info(name, ds, arrays, hashes)
