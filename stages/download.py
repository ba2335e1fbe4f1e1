"""Stage download: fetch and verify the raw files of one dataset.

Reads:  params.yaml ``data.NAME`` (enabled, mirrors, files with accepted SHA-256s; for
        format tfd_mat: path, the user's own TFD_48x48.mat).
Writes: ``data/raw/NAME/`` = the dataset's files plus ``manifest.json``
        ({file: {sha256, bytes, source}}); or only a SKIPPED marker when
        ``data.NAME.enabled`` is false, or for tfd_mat when ``path`` is null (the reason says
        how to obtain the file).
Needs the network unless a mirror is a local directory or file:// URL. TFD is never downloaded:
its file is checked (keys, shapes, fold codes) and copied from ``path``.

Run alone:  python stages/download.py mnist [--params params.yaml] [--root .]

The directory is rewritten whole, but files already there with an accepted hash are carried over
instead of being downloaded again (DVC deletes outputs before a run unless they are ``persist``ed).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ganrepro import config, io
from ganrepro.data import tfd
from ganrepro.data.download import copy_verified, fetch_dataset

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


def copy_user_tfd(name: str, ds: config.Dataset, out: Path, root: Path) -> int:
    """Check the user's TFD_48x48.mat at ``data.NAME.path`` and copy it into ``out``."""
    if ds.path is None:
        io.write_skipped(out, tfd.HOW_TO_OBTAIN, status=io.NOT_AVAILABLE)
        print(f"download: {name} skipped ({tfd.HOW_TO_OBTAIN})", file=sys.stderr)
        return 0
    src = root / Path(ds.path).expanduser()  # an absolute path stays as it is
    if not src.is_file():
        raise io.StageError(f"params.yaml: 'data.{name}.path' is {ds.path!r}: file not found")
    accepted = tfd.accepted_hashes(ds, name)
    tfd.read_tfd(src)  # every check before any copy
    with io.fresh_dir(out) as tmp:
        sha = copy_verified(src, tmp / tfd.FILE, accepted)
        size = (tmp / tfd.FILE).stat().st_size
        io.write_json(
            tmp / MANIFEST, {tfd.FILE: {"sha256": sha, "bytes": size, "source": ds.path}}
        )
    print(f"download: {name}: {src} checked and copied to {out} (sha256 {sha})", file=sys.stderr)
    return 0


def run(name: str, params: Path, root: Path) -> int:
    ds = config.dataset(config.load_params(params), name)
    out = root / "data" / "raw" / name
    if not ds.enabled:
        io.write_skipped(out, f"data.{name}.enabled is false")
        print(f"download: {name} skipped (data.{name}.enabled is false)", file=sys.stderr)
        return 0
    if ds.format == "tfd_mat":
        return copy_user_tfd(name, ds, out, root)
    previous = previous_manifest(out)
    with io.fresh_dir(out) as tmp:
        carry_over(out, tmp, ds.files)
        manifest = fetch_dataset(ds, tmp, base_dir=root, previous=previous)
        io.write_json(tmp / MANIFEST, manifest)
    print(f"download: {name}: {len(manifest)} files verified in {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = io.parse_stage_args(io.stage_parser(__doc__, "name", io.DATASET_HELP), argv)

    return io.run_main(lambda: run(args.name, args.params, args.root))


if __name__ == "__main__":
    sys.exit(main())
