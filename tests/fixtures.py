"""Reusable generators of tiny MNIST-format data for the tests (no test functions here).

``make_idx_mirror`` writes the four MNIST-named .gz files; ``write_data_params`` writes a
params.yaml whose ``data:`` section points at such a mirror; ``serve_directory`` serves a directory
over HTTP on 127.0.0.1; ``load_stage`` imports a module of ``stages/`` (not a package).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np
import yaml

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


def data_section(mirrors: list[str], hashes: dict[str, str], splits: dict, enabled=True) -> dict:
    """One ``data.<name>`` entry of params.yaml."""
    return {
        "enabled": enabled,
        "format": "idx",
        "licence": "synthetic test data",
        "mirrors": [str(m) for m in mirrors],
        "files": {name: [h] if isinstance(h, str) else list(h) for name, h in hashes.items()},
        "splits": {k: list(v) for k, v in splits.items()},
    }


def write_data_params(path: str | Path, name: str, **section) -> Path:
    """Write a params.yaml holding only ``data: {name: data_section(**section)}``."""
    path = Path(path)
    path.write_text(yaml.safe_dump({"data": {name: data_section(**section)}}, sort_keys=False))
    return path


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
