"""Turn MNIST-format IDX files into the train / valid / test arrays the experiments use, and
write and load the prepared-directory format every dataset shares.

The split and preprocessing follow the authors' code (datasets.md §1.4): train and valid are
[start, stop) row ranges of the training file given by ``data.<name>.splits`` (paper: 0:50000 and
50000:60000), test is the whole t10k file; pixels are uint8 / 255 as float32 in [0, 1], flattened
to (N, 784). No centring, no binarisation. Labels are read only to check the files agree.

Prepared format (all datasets): ``splits.npz`` with float32 (N, D) arrays ``train``, ``valid``,
``test`` and, for datasets with official folds (TFD), ``fold{k}_valid`` / ``fold{k}_test`` for
k < ``info["folds"]``; ``info.json`` with at least ``image_shape`` ([C, H, W], D = C*H*W).
The other formats' readers live in their own modules (cifar10, tfd, faces), which only the
prepare stage imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganrepro.config import Dataset
from ganrepro.data.idx import read_labeled
from ganrepro.io import StageError, fresh_dir, read_json, save_npz, skipped_reason, write_json

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
IMAGE_SHAPE = (1, 28, 28)  # (channels, rows, cols) of every MNIST-format image
SPLITS = ("train", "valid")  # row ranges of the training file; test is the t10k file
ARRAYS = ("train", "valid", "test")  # keys of splits.npz every dataset has


@dataclass(frozen=True, eq=False)
class Prepared:
    """A prepared dataset: float32 (N, D) arrays and what they came from.

    ``folds`` holds one (valid, test) pair per official fold (TFD: 5; the Parzen protocol picks
    sigma on each fold's valid set and scores its test set); it is empty for other datasets.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    image_shape: tuple[int, ...]  # (C, H, W), e.g. (1, 28, 28)
    info: dict
    folds: tuple[tuple[np.ndarray, np.ndarray], ...] = ()


def fold_keys(k: int) -> tuple[str, str]:
    """The splits.npz keys of fold ``k``'s valid and test arrays."""
    return f"fold{k}_valid", f"fold{k}_test"


def to_unit_float(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, rows, cols) -> float32 (N, rows*cols), value / 255 in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


def splits_key(ds: Dataset, raw_dir: Path, name: str | None, allowed: tuple[str, ...]) -> str:
    """The params key of ``ds.splits`` (for messages), after checking it names only ``allowed``."""
    key = f"data.{name or raw_dir.name}.splits"
    unknown = sorted(set(ds.splits) - set(allowed))
    if unknown:
        raise StageError(
            f"params.yaml: unknown split '{key}.{unknown[0]}' (allowed: {', '.join(allowed)})"
        )
    return key


def split_rows(
    images: np.ndarray, splits: dict, split: str, key: str, source: str = TRAIN_IMAGES
) -> np.ndarray:
    """Rows [start, stop) of ``images`` named by ``splits[split]``.

    ``key`` (the params key of ``splits``) and ``source`` (what the rows come from) are for errors.
    """
    if split not in splits:
        raise StageError(f"params.yaml: missing key '{key}.{split}'")
    start, stop = splits[split]
    if stop > len(images):
        raise StageError(
            f"params.yaml: '{key}.{split}' is [{start}, {stop}), past the {len(images)} rows of "
            f"{source}"
        )
    return images[start:stop]


def _read_set(raw_dir: Path, images_name: str, labels_name: str) -> np.ndarray:
    images, _ = read_labeled(raw_dir / images_name, raw_dir / labels_name)
    if images.shape[1:] != IMAGE_SHAPE[1:]:
        raise StageError(
            f"{raw_dir / images_name}: images are {images.shape[1]}x{images.shape[2]}, "
            f"expected {IMAGE_SHAPE[1]}x{IMAGE_SHAPE[2]}"
        )
    return images


def prepare_idx(
    raw_dir: str | Path, ds: Dataset, name: str | None = None
) -> dict[str, np.ndarray]:
    """Read the four IDX files in ``raw_dir`` and cut the splits of ``ds``.

    Args:
        raw_dir: directory holding the MNIST-named .gz files.
        ds: the dataset's params (``splits`` must name exactly train and valid).
        name: dataset name used in error messages (default: the name of ``raw_dir``).

    Returns:
        {"train", "valid", "test"}: float32 arrays of shape (N, 784), values in [0, 1].
    """
    raw_dir = Path(raw_dir)
    key = splits_key(ds, raw_dir, name, SPLITS)
    train_file = _read_set(raw_dir, TRAIN_IMAGES, TRAIN_LABELS)
    arrays = {s: to_unit_float(split_rows(train_file, ds.splits, s, key)) for s in SPLITS}
    arrays["test"] = to_unit_float(_read_set(raw_dir, TEST_IMAGES, TEST_LABELS))
    return arrays


def source_hashes(raw_dir: str | Path, ds: Dataset, name: str) -> dict[str, str]:
    """SHA-256 of every raw file, from the download manifest; each must be accepted by params."""
    manifest_path = Path(raw_dir) / "manifest.json"
    if not manifest_path.is_file():
        raise StageError(f"{manifest_path}: file not found (run the download stage for {name})")
    manifest = read_json(manifest_path)
    hashes = {}
    for file, accepted in ds.files.items():
        hashes[file] = manifest.get(file, {}).get("sha256", "missing")
        if hashes[file] not in accepted:
            raise StageError(
                f"{manifest_path}: sha256 of {file} is {hashes[file]}, not accepted by "
                f"'data.{name}.files.{file}' (rerun the download stage)"
            )
    return hashes


def info_header(name: str, ds: Dataset, image_shape: tuple[int, ...], arrays: dict) -> dict:
    """The keys every dataset's provenance record starts with."""
    return {
        "dataset": name,
        "format": ds.format,
        "image_shape": list(image_shape),
        "counts": {k: len(v) for k, v in arrays.items()},
    }


def make_info(name: str, ds: Dataset, arrays: dict, hashes: dict[str, str]) -> dict:
    """The provenance record written next to the arrays."""
    return {
        "dataset": name,
        "image_shape": list(IMAGE_SHAPE),
        "counts": {k: len(v) for k, v in arrays.items()},
        "splits": {s: list(ds.splits[s]) for s in SPLITS} | {"test": f"all of {TEST_IMAGES}"},
        "pixels": "uint8 / 255 as float32 in [0, 1], flattened row-major to 784",
        "source_sha256": hashes,
    }


def write_prepared(out_dir: str | Path, arrays: dict[str, np.ndarray], info: dict) -> None:
    """Write ``out_dir/splits.npz`` and ``out_dir/info.json``, replacing the directory whole.

    ``arrays`` holds train, valid, test and, when ``info["folds"]`` is set, every fold's arrays.
    """
    keys = [*ARRAYS, *(k for f in range(info.get("folds", 0)) for k in fold_keys(f))]
    with fresh_dir(out_dir) as tmp:
        save_npz(tmp / "splits.npz", **{k: arrays[k] for k in keys})
        write_json(tmp / "info.json", info)


def load_prepared(directory: str | Path) -> Prepared:
    """Load what :func:`write_prepared` wrote; a skipped dataset raises StageError (with why)."""
    directory = Path(directory)
    reason = skipped_reason(directory)
    if reason is not None:
        raise StageError(f"{directory}: dataset was skipped: {reason}")
    for file in ("splits.npz", "info.json"):
        if not (directory / file).is_file():
            raise StageError(f"{directory / file}: file not found (run the prepare stage)")
    info = read_json(directory / "info.json")
    folds = [fold_keys(f) for f in range(info.get("folds", 0))]
    with np.load(directory / "splits.npz") as npz:
        missing = [
            k for k in (*ARRAYS, *(k for pair in folds for k in pair)) if k not in npz.files
        ]
        if missing:
            raise StageError(f"{directory / 'splits.npz'}: missing array '{missing[0]}'")
        arrays = {k: npz[k] for k in ARRAYS}
        fold_arrays = tuple((npz[v], npz[t]) for v, t in folds)
    return Prepared(**arrays, image_shape=tuple(info["image_shape"]), info=info, folds=fold_arrays)
