"""Stage prepare: cut the train / valid / test splits of one dataset and scale pixels to [0, 1].

Reads:  ``data/raw/NAME/`` (the download stage's output) and params.yaml ``data.NAME``
        (enabled, files, splits).
Writes: ``data/prepared/NAME/`` = ``splits.npz`` (train, valid, test: float32 (N, 784) in
        [0, 1]) and ``info.json`` (dataset, image_shape, counts, splits, source sha256s); or only
        a SKIPPED marker, with the same reason, when the raw data was skipped or the dataset is
        disabled.

Run alone:  python stages/prepare.py mnist [--params params.yaml] [--root .]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganrepro import config, io
from ganrepro.data import prepare


def skip_reason(name: str, ds: config.Dataset, raw_dir: Path) -> str | None:
    if not ds.enabled:
        return f"data.{name}.enabled is false"
    return io.skipped_reason(raw_dir)


def run(name: str, params: Path, root: Path) -> int:
    ds = config.dataset(config.load_params(params), name)
    raw_dir = root / "data" / "raw" / name
    out = root / "data" / "prepared" / name
    reason = skip_reason(name, ds, raw_dir)
    if reason is not None:
        io.write_skipped(out, reason)
        print(f"prepare: {name} skipped ({reason})", file=sys.stderr)
        return 0
    hashes = prepare.source_hashes(raw_dir, ds, name)
    arrays = prepare.prepare_idx(raw_dir, ds, name)
    prepare.write_prepared(out, arrays, prepare.make_info(name, ds, arrays, hashes))
    counts = ", ".join(f"{k} {len(v)}" for k, v in arrays.items())
    print(f"prepare: {name}: {counts} -> {out}", file=sys.stderr)
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
