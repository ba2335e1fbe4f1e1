"""Smoke tests of stages/download.py and stages/prepare.py on generated data in tmp_path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures import load_stage, make_idx_mirror, write_data_params

from ganrepro import io
from ganrepro.data.prepare import load_prepared

download = load_stage("download")
prepare = load_stage("prepare")
SPLITS = {"train": [0, 8], "valid": [8, 12]}


@pytest.fixture
def project(tmp_path):
    hashes = make_idx_mirror(tmp_path / "mirror", n_train=12, n_test=5, seed=7)
    write_data_params(
        tmp_path / "params.yaml", "tiny", mirrors=["mirror"], hashes=hashes, splits=SPLITS
    )
    return tmp_path, hashes


def _run(stage, root, *extra):
    return stage.main(["tiny", "--root", str(root), *extra])


def test_download_then_prepare(project):
    root, hashes = project
    assert _run(download, root) == 0
    raw = root / "data" / "raw" / "tiny"
    assert sorted(p.name for p in raw.iterdir()) == sorted([*hashes, "manifest.json"])
    manifest = json.loads((raw / "manifest.json").read_text())
    assert {k: v["sha256"] for k, v in manifest.items()} == hashes
    assert {v["source"] for v in manifest.values()} == {"mirror"}

    assert _run(prepare, root) == 0
    prepared = load_prepared(root / "data" / "prepared" / "tiny")
    assert (len(prepared.train), len(prepared.valid), len(prepared.test)) == (8, 4, 5)
    assert prepared.train.shape[1] == 784 and prepared.train.dtype == np.float32
    assert prepared.info["source_sha256"] == hashes


def test_download_rerun_keeps_good_files_and_rewrites_the_directory(project, tmp_path):
    root, hashes = project
    assert _run(download, root) == 0
    raw = root / "data" / "raw" / "tiny"
    (raw / "junk.txt").write_text("not an output")
    inode = (raw / "train-images-idx3-ubyte.gz").stat().st_ino
    # Point the only mirror somewhere empty: a rerun must not need it.
    write_data_params(
        root / "params.yaml", "tiny", mirrors=["nowhere"], hashes=hashes, splits=SPLITS
    )
    assert _run(download, root) == 0
    assert not (raw / "junk.txt").exists()
    assert (raw / "train-images-idx3-ubyte.gz").stat().st_ino == inode  # hard link, not refetched
    manifest = json.loads((raw / "manifest.json").read_text())
    assert {v["source"] for v in manifest.values()} == {"mirror"}  # carried from the old manifest


def test_download_failure_exits_2_and_keeps_the_old_output(project, capsys):
    root, hashes = project
    assert _run(download, root) == 0
    raw = root / "data" / "raw" / "tiny"
    before = sorted(p.name for p in raw.iterdir())
    changed = dict(hashes, **{"t10k-labels-idx1-ubyte.gz": "f" * 64})
    write_data_params(
        root / "params.yaml", "tiny", mirrors=["mirror"], hashes=changed, splits=SPLITS
    )
    capsys.readouterr()
    assert _run(download, root) == 2
    err = capsys.readouterr().err
    assert "error: t10k-labels-idx1-ubyte.gz: every mirror failed: mirror: sha256 mismatch" in err
    assert sorted(p.name for p in raw.iterdir()) == before


def test_disabled_dataset_is_skipped_by_both_stages(project):
    root, hashes = project
    write_data_params(
        root / "params.yaml",
        "tiny",
        mirrors=["mirror"],
        hashes=hashes,
        splits=SPLITS,
        enabled=False,
    )
    assert _run(download, root) == 0
    assert io.skipped_reason(root / "data" / "raw" / "tiny") == "data.tiny.enabled is false"
    assert sorted(p.name for p in (root / "data" / "raw" / "tiny").iterdir()) == [io.SKIPPED]
    assert _run(prepare, root) == 0
    prepared = root / "data" / "prepared" / "tiny"
    assert io.skipped_reason(prepared) == "data.tiny.enabled is false"
    with pytest.raises(io.StageError, match="skipped"):
        load_prepared(prepared)


def test_prepare_propagates_the_raw_skip_reason(project):
    root, _ = project
    io.write_skipped(root / "data" / "raw" / "tiny", "no network")
    assert _run(prepare, root) == 0
    assert io.skipped_reason(root / "data" / "prepared" / "tiny") == "no network"


def test_prepare_without_raw_data_exits_2(project, capsys):
    root, _ = project
    assert _run(prepare, root) == 2
    assert "run the download stage" in capsys.readouterr().err
    assert not (root / "data" / "prepared" / "tiny").exists()


def test_explicit_params_path_and_bad_split(project, capsys):
    root, hashes = project
    other = root / "other.yaml"
    write_data_params(
        other,
        "tiny",
        mirrors=[str(root / "mirror")],
        hashes=hashes,
        splits={"train": [0, 8], "valid": [8, 13]},
    )
    assert _run(download, root, "--params", str(other)) == 0
    assert _run(prepare, root, "--params", str(other)) == 2
    assert "'data.tiny.splits.valid' is [8, 13), past the 12 rows" in capsys.readouterr().err


def test_prepare_skips_a_disabled_dataset_even_with_stale_raw_data(project):
    root, hashes = project
    assert _run(download, root) == 0  # real raw files, then the dataset is switched off
    write_data_params(
        root / "params.yaml",
        "tiny",
        mirrors=["mirror"],
        hashes=hashes,
        splits=SPLITS,
        enabled=False,
    )
    assert _run(prepare, root) == 0
    assert io.skipped_reason(root / "data" / "prepared" / "tiny") == "data.tiny.enabled is false"


def test_prepare_refuses_raw_files_params_no_longer_accept(project, capsys):
    root, hashes = project
    assert _run(download, root) == 0
    changed = dict(hashes, **{"train-images-idx3-ubyte.gz": "a" * 64})
    write_data_params(
        root / "params.yaml", "tiny", mirrors=["mirror"], hashes=changed, splits=SPLITS
    )
    assert _run(prepare, root) == 2
    err = capsys.readouterr().err
    assert f"sha256 of train-images-idx3-ubyte.gz is {hashes['train-images-idx3-ubyte.gz']}" in err
    assert "'data.tiny.files.train-images-idx3-ubyte.gz'" in err
    assert not (root / "data" / "prepared" / "tiny").exists()
