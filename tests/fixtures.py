"""Reusable generators of tiny data in the real formats for the tests (no test functions here).

``make_idx_mirror`` writes the four MNIST-named .gz files; ``make_cifar10_archive`` a CIFAR-10
binary .tar.gz with a few records per batch; ``make_tfd_mat`` a ``TFD_48x48.mat`` with folds
(scipy.io.savemat); ``make_lfw_archive`` an LFW-like .tgz of 250x250 JPEGs in person folders;
``write_tar_gz`` any .tar.gz, including hostile members. ``write_data_params`` writes a params.yaml
whose ``data:`` section points at such a mirror; ``serve_directory`` serves a directory over HTTP
on 127.0.0.1; ``load_stage`` imports a module of ``stages/`` (not a package).
"""

from __future__ import annotations

import functools
import gzip
import http.server
import importlib.util
import io
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np
import scipy.io
import yaml
from PIL import Image

from ganrepro.data.download import sha256_file
from ganrepro.data.idx import write_idx_gz

REPO = Path(__file__).resolve().parents[1]
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def make_idx_sets(n_train: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    """Random uint8 28x28 images and 0-9 labels, keyed by MNIST file name."""
    rng = np.random.default_rng(seed)
    sets = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        sets[f"{prefix}-images-idx3-ubyte.gz"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        sets[f"{prefix}-labels-idx1-ubyte.gz"] = rng.integers(0, 10, n, dtype=np.uint8)
    return sets


def make_idx_mirror(directory: str | Path, n_train: int, n_test: int, seed: int) -> dict[str, str]:
    """Write the four MNIST-named .gz files into ``directory``; return {file name: sha256}."""
    directory = Path(directory)
    for name, array in make_idx_sets(n_train, n_test, seed).items():
        write_idx_gz(directory / name, array)
    return {name: sha256_file(directory / name) for name in FILES}


def data_section(
    mirrors: list[str], hashes: dict[str, str], splits: dict, enabled=True, fmt="idx", **extra
) -> dict:
    """One ``data.<name>`` entry of params.yaml (``extra``: e.g. gcn_scale, path)."""
    return {
        "enabled": enabled,
        "format": fmt,
        "licence": "synthetic test data",
        "mirrors": [str(m) for m in mirrors],
        "files": {name: [h] if isinstance(h, str) else list(h) for name, h in hashes.items()},
        "splits": {k: list(v) for k, v in splits.items()},
        **extra,
    }


def tiny_dataset(hashes: dict[str, str], splits: dict, fmt: str = "idx", **extra):
    """A validated ``config.Dataset`` named data.tiny (its mirror is never used)."""
    from ganrepro.config import Dataset, build

    return build(Dataset, data_section(["unused/"], hashes, splits, fmt=fmt, **extra), "data.tiny")


def write_data_params(path: str | Path, name: str, /, **section) -> Path:
    """Write a params.yaml holding only ``data: {name: data_section(**section)}``."""
    path = Path(path)
    path.write_text(yaml.safe_dump({"data": {name: data_section(**section)}}, sort_keys=False))
    return path


# ---------------------------------------------------------------- .tar.gz


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    """A TarInfo of type ``kind`` (e.g. tarfile.SYMTYPE, LNKTYPE, CHRTYPE, DIRTYPE)."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mtime, info.mode = kind, linkname, 0, 0o644
    return info


def write_tar_gz(
    path: str | Path, files: dict[str, bytes], extra: tuple[tarfile.TarInfo, ...] = ()
) -> str:
    """Write ``files`` (member name: bytes, in the given order), then ``extra`` members with no
    content (links, devices, directories), as a byte-reproducible .tar.gz; return its sha256."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tar_member(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    return sha256_file(path)


# ---------------------------------------------------------------- CIFAR-10 binary

CIFAR_TOP = "cifar-10-batches-bin"
CIFAR_BATCHES = (*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin")


def make_cifar10_batches(n_per_batch: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{batch file: (images (n, 3, 32, 32) uint8, labels (n,) uint8)} for the six batches."""
    rng = np.random.default_rng(seed)
    return {
        name: (
            rng.integers(0, 256, (n_per_batch, 3, 32, 32), dtype=np.uint8),
            rng.integers(0, 10, n_per_batch, dtype=np.uint8),
        )
        for name in CIFAR_BATCHES
    }


def encode_cifar10_batch(images: np.ndarray, labels: np.ndarray) -> bytes:
    """3,073-byte records: the label byte, then the R, G and B 32x32 planes, row-major."""
    records = np.concatenate([labels[:, None], images.reshape(len(images), -1)], axis=1)
    return records.astype(np.uint8).tobytes()


def cifar10_files(batches: dict) -> dict[str, bytes]:
    """The archive's member files (as the real archive: the six .bin, meta and readme)."""
    files = {f"{CIFAR_TOP}/{n}": encode_cifar10_batch(*batches[n]) for n in CIFAR_BATCHES}
    files[f"{CIFAR_TOP}/batches.meta.txt"] = b"airplane\nautomobile\nbird\ncat\ndeer\n"
    files[f"{CIFAR_TOP}/readme.html"] = b"<html></html>"
    return files


def make_cifar10_archive(
    directory: str | Path, n_per_batch: int, seed: int, replace: dict[str, bytes] | None = None
) -> dict[str, str]:
    """Write ``cifar-10-binary.tar.gz`` into ``directory``; return {file name: sha256}.

    ``replace``: batch file name (e.g. ``test_batch.bin``) -> the bytes to store instead.
    """
    files = cifar10_files(make_cifar10_batches(n_per_batch, seed))
    for batch, data in (replace or {}).items():
        files[f"{CIFAR_TOP}/{batch}"] = data
    top = tar_member(CIFAR_TOP, tarfile.DIRTYPE)
    name = "cifar-10-binary.tar.gz"
    return {name: write_tar_gz(Path(directory) / name, files, extra=(top,))}


# ---------------------------------------------------------------- TFD .mat


def make_tfd_contents(n_unlabeled: int, n_labeled: int, seed: int) -> dict[str, np.ndarray]:
    """TFD_48x48.mat variables: unlabeled rows (code 0 in all 5 folds) shuffled among labeled
    rows, whose code in fold k is 1 (train), 2 (valid) or 3 (test), rotating with k."""
    rng = np.random.default_rng(seed)
    n = n_unlabeled + n_labeled
    labeled = np.zeros(n, bool)
    labeled[rng.permutation(n)[:n_labeled]] = True
    folds = np.zeros((n, 5), np.uint8)
    for k in range(5):
        folds[labeled, k] = 1 + (np.arange(n_labeled) + k) % 3
    labs_ex = np.where(labeled, rng.integers(1, 8, n), -1)
    return {
        "images": rng.integers(0, 256, (n, 48, 48), dtype=np.uint8),
        "folds": folds,
        "labs_ex": labs_ex.reshape(n, 1).astype(np.int16),
        "labs_id": np.where(labeled, rng.integers(1, 50, n), -1).reshape(n, 1).astype(np.int16),
    }


def make_tfd_mat(path: str | Path, n_unlabeled: int, n_labeled: int, seed: int, **replace) -> dict:
    """Write a TFD_48x48.mat-shaped file with scipy.io.savemat; return its variables.

    ``replace``: variable -> new value (None drops the variable).
    """
    contents = make_tfd_contents(n_unlabeled, n_labeled, seed)
    for key, value in replace.items():
        if value is None:
            contents.pop(key)
        else:
            contents[key] = value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, contents)
    return contents


# ---------------------------------------------------------------- LFW-like faces

LFW_TOP = "lfw_funneled"


def lfw_jpeg(level: int, size: int = 250) -> bytes:
    """A JPEG of ``size`` x ``size`` RGB, uniform gray ``level`` (decodes back to ``level``)."""
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (level, level, level)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def make_lfw_archive(
    directory: str | Path, people: dict[str, int], name: str = "lfw-funneled.tgz"
) -> tuple[str, list[str], dict[str, int]]:
    """Write an LFW-like .tgz: ``people[p]`` images of person ``p`` as lfw_funneled/p/p_000k.jpg.

    Members are written in reverse sorted order (so the reader must sort); image i (in that
    order) is uniform gray 20 + 7 * i. Returns (sha256, sorted member names, {member: level}).
    """
    names = [f"{LFW_TOP}/{p}/{p}_{k:04d}.jpg" for p in people for k in range(1, people[p] + 1)]
    names = sorted(names, reverse=True)
    levels = {n: 20 + 7 * i for i, n in enumerate(names)}
    files = {n: lfw_jpeg(levels[n]) for n in names}
    files[f"{LFW_TOP}/README.txt"] = b"not an image"
    dirs = tuple(tar_member(f"{LFW_TOP}/{p}", tarfile.DIRTYPE) for p in people)
    sha = write_tar_gz(Path(directory) / name, files, extra=dirs)
    return sha, sorted(names), levels


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


@contextmanager
def serve_directory(directory: str | Path, lifetime_s: float = 60.0) -> Iterator[str]:
    """Serve ``directory`` on http://127.0.0.1:<free port>/ until the block ends or lifetime_s."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    watchdog = threading.Timer(lifetime_s, server.shutdown)
    thread.start()
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        watchdog.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def load_stage(name: str) -> ModuleType:
    """Import ``stages/<name>.py`` as a module (the stages directory is not a package)."""
    spec = importlib.util.spec_from_file_location(f"stage_{name}", REPO / "stages" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
