"""Stage prepare: cut the train / valid / test splits of one dataset and scale its pixels.

Reads:  ``data/raw/NAME/`` (the download stage's output) and params.yaml ``data.NAME``
        (enabled, format, files, splits; gcn_scale for cifar10_bin).
Writes: ``data/prepared/NAME/`` = ``splits.npz`` (train, valid, test: float32 (N, C*H*W); for
        TFD also fold{k}_valid / fold{k}_test, k = 0..4) and ``info.json`` (dataset,
        image_shape, counts, splits, preprocessing, source sha256s); or only a SKIPPED marker,
        with the same reason, when the raw data was skipped or the dataset is disabled.
        By format: idx (MNIST) and tfd_mat / lfw_faces: uint8 / 255 in [0, 1];
        cifar10_bin: global contrast normalisation (scale gcn_scale), not in [0, 1].

Run alone:  python stages/prepare.py mnist [--params params.yaml] [--root .]
"""

from __future__ import annotations

import sys
from pathlib import Path

from ganrepro import config, io
from ganrepro.data import cifar10, faces, prepare, tfd


def skip_marker(name: str, ds: config.Dataset, raw_dir: Path) -> dict | None:
    """Why this dataset is not prepared ({"status", "reason"}), or None."""
    if not ds.enabled:
        return {"status": io.NOT_RUN, "reason": f"data.{name}.enabled is false"}
    return io.skip_marker(raw_dir)


def prepare_idx(raw_dir: Path, ds: config.Dataset, name: str) -> tuple[dict, dict]:
    hashes = prepare.source_hashes(raw_dir, ds, name)
    arrays = prepare.prepare_idx(raw_dir, ds, name)
    return arrays, prepare.make_info(name, ds, arrays, hashes)


PREPARERS = {  # format -> (raw_dir, ds, name) -> (arrays, info)
    "idx": prepare_idx,
    "cifar10_bin": cifar10.prepare,
    "tfd_mat": tfd.prepare,
    "lfw_faces": faces.prepare,
}


def run(name: str, params: Path, root: Path) -> int:
    ds = config.dataset(config.load_params(params), name)
    raw_dir = root / "data" / "raw" / name
    out = root / "data" / "prepared" / name
    marker = skip_marker(name, ds, raw_dir)
    if marker is not None:
        io.write_skipped(out, **marker)
        print(f"prepare: {name} {marker['status']} ({marker['reason']})", file=sys.stderr)
        return 0
    arrays, info = PREPARERS[ds.format](raw_dir, ds, name)
    prepare.write_prepared(out, arrays, info)
    counts = ", ".join(f"{k} {len(v)}" for k, v in arrays.items())
    print(f"prepare: {name}: {counts} -> {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = io.parse_stage_args(io.stage_parser(__doc__, "name", io.DATASET_HELP), argv)

    return io.run_main(lambda: run(args.name, args.params, args.root))


if __name__ == "__main__":
    sys.exit(main())
