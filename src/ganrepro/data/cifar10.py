"""CIFAR-10 from the binary archive: records, the authors' splits, global contrast normalisation.

``cifar-10-binary.tar.gz`` (datasets.md §2.3) holds ``cifar-10-batches-bin/data_batch_1.bin`` ...
``data_batch_5.bin`` and ``test_batch.bin``: records of 3,073 bytes, 1 label byte (0-9) then 3072
pixel bytes (1024 R, 1024 G, 1024 B, each 32x32 plane row-major, i.e. CHW), no header; each real
file holds 10,000 records. Nothing is unpickled and nothing is extracted to disk (see
:mod:`ganrepro.data.archive`).

Splits (paper-settings §1c, ``cifar10_*.yaml``): train and valid are [start, stop) rows of the
50,000 training records in batch order 1..5 (paper: 0:40000 and 40000:50000), test is the whole
test batch. Pixels are uint8 as float32 (0-255, as pylearn2's ``CIFAR10``), then global contrast
normalisation as pylearn2 ``global_contrast_normalize(X, scale=gcn_scale)`` with its defaults.
Values are not in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganrepro.config import Dataset
from ganrepro.data.archive import read_files
from ganrepro.data.prepare import info_header, source_hashes, split_rows, splits_key
from ganrepro.io import StageError

ARCHIVE = "cifar-10-binary.tar.gz"
TOP = "cifar-10-batches-bin"
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "test_batch.bin"
RECORD = 3073  # bytes per record: 1 label byte + 3 x 32 x 32 pixel bytes
IMAGE_SHAPE = (3, 32, 32)  # (channels, rows, cols); features are stored in this (CHW) order
SPLITS = ("train", "valid")  # row ranges of the training batches; test is the test batch
MIN_DIVISOR = 1e-8  # pylearn2 global_contrast_normalize default
GCN_ROWS = 10_000  # rows normalised at a time (memory only; GCN is per row)


def decode_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (N, 3072) uint8 in CHW order, labels (N,) uint8) of one ``.bin`` file's bytes."""
    if len(data) == 0 or len(data) % RECORD != 0:
        raise StageError(
            f"{where}: {len(data)} bytes is not a whole number of {RECORD}-byte records"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0]
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise StageError(
            f"{where}: record {bad[0]} has label {labels[bad[0]]}, expected 0-9 "
            "(misaligned records?)"
        )
    return records[:, 1:], labels


def read_batches(archive: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(training pixels of batches 1..5 in order, test pixels), uint8 (N, 3072), CHW order.

    Every batch must hold the same number of records (10,000 in the real archive, whose SHA-256
    pins it; tiny test archives hold fewer).
    """
    names = [f"{TOP}/{b}" for b in (*TRAIN_BATCHES, TEST_BATCH)]
    files = read_files(archive, names)
    pixels = {}
    for name in names:
        pixels[name], _ = decode_batch(files.pop(name), f"{archive}: {name}")
    counts = {name: len(p) for name, p in pixels.items()}
    first = names[0]
    for name, n in counts.items():
        if n != counts[first]:
            raise StageError(
                f"{archive}: {name} has {n} records, expected {counts[first]} like {first}"
            )
    train = np.concatenate([pixels[n] for n in names[:-1]])
    return train, pixels[names[-1]]


def global_contrast_normalize(x: np.ndarray, scale: float) -> np.ndarray:
    """pylearn2 ``global_contrast_normalize(X, scale)`` with its defaults, per row, in float32.

    Each row: subtract its mean over all features, then divide by its L2 norm / ``scale`` (so the
    row's norm becomes ``scale``); a row whose divisor norm / scale is below 1e-8 is left
    undivided (pylearn2 sets such divisors to 1), so a constant image becomes all zeros.
    """
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d design matrix, got shape {x.shape}")
    x = x.astype(np.float32)  # a copy, as pylearn2's ``X - mean``
    for start in range(0, len(x), GCN_ROWS):
        rows = x[start : start + GCN_ROWS]
        rows -= rows.mean(axis=1, dtype=np.float32)[:, np.newaxis]
        divisors = np.sqrt((rows**2).sum(axis=1)) / np.float32(scale)
        divisors[divisors < MIN_DIVISOR] = 1.0
        rows /= divisors[:, np.newaxis]
    return x


def prepare_cifar10(
    raw_dir: str | Path, ds: Dataset, name: str | None = None
) -> dict[str, np.ndarray]:
    """Read ``raw_dir/cifar-10-binary.tar.gz`` and cut the normalised splits of ``ds``.

    Returns:
        {"train", "valid", "test"}: float32 arrays (N, 3072) in CHW order, after GCN.
    """
    raw_dir = Path(raw_dir)
    key = splits_key(ds, raw_dir, name, SPLITS)
    train_file, test_file = read_batches(raw_dir / ARCHIVE)
    source = f"{ARCHIVE} data_batch_1..5"
    arrays = {s: split_rows(train_file, ds.splits, s, key, source=source) for s in SPLITS}
    arrays["test"] = test_file
    return {k: global_contrast_normalize(v, ds.gcn_scale) for k, v in arrays.items()}


def make_info(name: str, ds: Dataset, arrays: dict, hashes: dict[str, str]) -> dict:
    """The provenance record written next to the arrays."""
    return {
        **info_header(name, ds, IMAGE_SHAPE, arrays),
        "splits": {s: list(ds.splits[s]) for s in SPLITS}
        | {"test": f"all of {TEST_BATCH}", "train_rows": "data_batch_1..5 in order"},
        "pixels": (
            "uint8 as float32 (0-255), 3072 values per image in CHW order (R, G, B planes, "
            "each 32x32 row-major), then global contrast normalisation; not in [0, 1]"
        ),
        "preprocessing": {
            "gcn": {
                "as": "pylearn2 global_contrast_normalize(X, scale) with defaults",
                "scale": ds.gcn_scale,
                "subtract_mean": True,
                "use_std": False,
                "sqrt_bias": 0.0,
                "min_divisor": MIN_DIVISOR,
            }
        },
        "source_sha256": hashes,
    }


def prepare(raw_dir: str | Path, ds: Dataset, name: str) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and info of the prepared CIFAR-10 (hashes checked against params first)."""
    hashes = source_hashes(raw_dir, ds, name)
    arrays = prepare_cifar10(raw_dir, ds, name)
    return arrays, make_info(name, ds, arrays, hashes)
