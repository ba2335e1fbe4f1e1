"""Stage download: fetch and verify the raw files of one dataset.

Reads:  params.yaml ``data.NAME`` (enabled, mirrors, files with accepted SHA-256s).
Writes: ``data/raw/NAME/`` = the dataset's files plus ``manifest.json``
        ({file: {sha256, bytes, source}}); or only a SKIPPED marker when
        ``data.NAME.enabled`` is false.
Needs the network unless a mirror is a local directory or file:// URL.

Run alone:  python stages/download.py mnist [--params params.yaml] [--root .]

The directory is rewritten whole, but files already there with an accepted hash are carried over
instead of being downloaded again (DVC deletes outputs before a run unless they are ``persist``ed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from ganrepro import config, io
from ganrepro.data.download import fetch_dataset

MANIFEST = "manifest.json"


def carry_over(old: Path, new: Path, names) -> None:
    """Hard-link (or copy) the files ``names`` present in ``old`` into ``new`` (verified later)."""
    for name in names:
        src = old / name
        if src.is_file():
            try:
                os.link(src, new / name)
            except OSError:
                shutil.copy2(src, new / name)


def previous_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    return io.read_json(path) if path.is_file() else None


def run(name: str, params: Path, root: Path) -> int:
    ds = config.dataset(config.load_params(params), name)
    out = root / "data" / "raw" / name
    if not ds.enabled:
        io.write_skipped(out, f"data.{name}.enabled is false")
        print(f"download: {name} skipped (data.{name}.enabled is false)", file=sys.stderr)
        return 0
    previous = previous_manifest(out)
    with io.fresh_dir(out) as tmp:
        carry_over(out, tmp, ds.files)
        manifest = fetch_dataset(ds, tmp, base_dir=root, previous=previous)
        io.write_json(tmp / MANIFEST, manifest)
    print(f"download: {name}: {len(manifest)} files verified in {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="dataset name, a key of params.yaml 'data'")
    parser.add_argument("--params", type=Path, help="params file (default: ROOT/params.yaml)")
    parser.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    args = parser.parse_args(argv)
    params = args.params or args.root / "params.yaml"
    return io.run_main(lambda: run(args.name, params, args.root))


if __name__ == "__main__":
    sys.exit(main())
