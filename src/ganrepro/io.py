"""Atomic file output and the SKIPPED marker shared by all stages.

Every file a stage produces is written to a temporary file in the same directory and renamed into
place, so an interrupted stage never leaves a half-written output behind.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

SKIPPED = "SKIPPED.json"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class StageError(RuntimeError):
    """A problem with an input (file, download, params): reported as one line, exit code 2."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.chmod(0o666 & ~_umask())  # mkstemp makes 0600; outputs get ordinary permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path) -> Any:
    with Path(path).open() as fh:
        return json.load(fh)


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)


@contextmanager
def fresh_dir(path: str | Path) -> Iterator[Path]:
    """Build a directory output in a sibling temp dir, then swap it in whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


NOT_RUN, NOT_AVAILABLE = "not run", "not available"  # the statuses a skipped output can carry


def write_skipped(directory: str | Path, reason: str, status: str = NOT_RUN) -> None:
    """Mark a directory output as skipped, with why: "not run" (disabled in params) or
    "not available" (an input that cannot be had, e.g. TFD without the user's file)."""
    with fresh_dir(directory) as tmp:
        write_json(tmp / SKIPPED, {"status": status, "reason": reason})


def skip_marker(directory: str | Path) -> dict | None:
    """{"status", "reason"} of a skipped directory output, or None when it holds real data."""
    marker = Path(directory) / SKIPPED
    if not marker.exists():
        return None
    found = read_json(marker)
    status = found.get("status")
    return {
        "status": status if status in (NOT_RUN, NOT_AVAILABLE) else NOT_RUN,
        "reason": found["reason"],
    }


def skipped_reason(directory: str | Path) -> str | None:
    """The reason a directory output was skipped, or None when it holds real data."""
    marker = skip_marker(directory)
    return None if marker is None else marker["reason"]


EXPERIMENT_HELP = "key of the experiments section of params.yaml"
DATASET_HELP = "dataset name, a key of the data section of params.yaml"


def stage_parser(
    doc: str, positional: str | None = None, help: str = ""
) -> argparse.ArgumentParser:
    """The command line every stage shares: [NAME] [--params P] [--root DIR]."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if positional:
        parser.add_argument(positional, help=help)
    parser.add_argument("--params", type=Path, help="params file (default: ROOT/params.yaml)")
    parser.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    return parser


def parse_stage_args(
    parser: argparse.ArgumentParser, argv: list[str] | None
) -> argparse.Namespace:
    args = parser.parse_args(argv)
    args.params = args.params or args.root / "params.yaml"
    return args


def run_main(body: Callable[[], int | None]) -> int:
    """Run a stage body; input errors become one line on stderr and exit code 2."""
    from ganrepro.config import ConfigError

    try:
        return body() or 0
    except (ConfigError, StageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
