"""Splits, pixel scaling and the prepared-directory format."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures import make_idx_mirror, make_idx_sets, tiny_dataset

from ganrepro import io
from ganrepro.config import Dataset
from ganrepro.data.prepare import load_prepared, make_info, prepare_idx, write_prepared
from ganrepro.io import StageError

SEED = 3


def _dataset(hashes, splits) -> Dataset:
    return tiny_dataset(hashes, splits)


@pytest.fixture
def raw(tmp_path):
    hashes = make_idx_mirror(tmp_path / "tiny", n_train=10, n_test=4, seed=SEED)
    return tmp_path / "tiny", hashes


def test_splits_are_the_exact_rows_scaled_by_255(raw):
    raw_dir, hashes = raw
    arrays = prepare_idx(raw_dir, _dataset(hashes, {"train": [0, 7], "valid": [7, 10]}))
    sets = make_idx_sets(10, 4, SEED)  # the same images, regenerated
    train_u8 = sets["train-images-idx3-ubyte.gz"].reshape(10, 784)
    test_u8 = sets["t10k-images-idx3-ubyte.gz"].reshape(4, 784)
    expect = {"train": train_u8[0:7], "valid": train_u8[7:10], "test": test_u8}
    assert set(arrays) == set(expect)
    for key, u8 in expect.items():
        assert arrays[key].dtype == np.float32
        np.testing.assert_array_equal(arrays[key], u8.astype(np.float32) / np.float32(255))
    assert arrays["train"].min() >= 0.0 and arrays["train"].max() <= 1.0
    assert arrays["train"].max() > 0.9 and arrays["train"].min() < 0.1  # uses the full range


def test_split_rows_follow_params_not_a_fixed_cut(raw):
    raw_dir, hashes = raw
    arrays = prepare_idx(raw_dir, _dataset(hashes, {"train": [2, 5], "valid": [8, 9]}))
    u8 = make_idx_sets(10, 4, SEED)["train-images-idx3-ubyte.gz"].reshape(10, 784)
    np.testing.assert_array_equal(arrays["train"] * 255, u8[2:5].astype(np.float32))
    np.testing.assert_array_equal(arrays["valid"] * 255, u8[8:9].astype(np.float32))


def test_split_past_the_end_names_the_params_key(raw):
    raw_dir, hashes = raw
    ds = _dataset(hashes, {"train": [0, 8], "valid": [8, 11]})
    with pytest.raises(
        StageError, match=r"'data\.tiny\.splits\.valid' is \[8, 11\), past the 10 rows"
    ):
        prepare_idx(raw_dir, ds)


def test_split_ending_exactly_at_the_end_is_fine(raw):
    raw_dir, hashes = raw
    arrays = prepare_idx(raw_dir, _dataset(hashes, {"train": [0, 9], "valid": [9, 10]}))
    assert [len(arrays[k]) for k in ("train", "valid", "test")] == [9, 1, 4]


def test_missing_and_unknown_splits_are_errors(raw):
    raw_dir, hashes = raw
    with pytest.raises(StageError, match=r"missing key 'data\.other\.splits\.valid'"):
        prepare_idx(raw_dir, _dataset(hashes, {"train": [0, 5]}), name="other")
    with pytest.raises(StageError, match=r"unknown split 'data\.tiny\.splits\.test'"):
        prepare_idx(raw_dir, _dataset(hashes, {"train": [0, 5], "valid": [5, 6], "test": [6, 7]}))


def test_label_count_mismatch_is_an_error(raw):
    raw_dir, hashes = raw
    from ganrepro.data.idx import write_idx_gz

    write_idx_gz(raw_dir / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(StageError, match=r"t10k-labels-idx1-ubyte\.gz: 3 labels, expected 4"):
        prepare_idx(raw_dir, _dataset(hashes, {"train": [0, 5], "valid": [5, 10]}))


def test_write_and_load_round_trip(tmp_path, raw):
    raw_dir, hashes = raw
    ds = _dataset(hashes, {"train": [0, 6], "valid": [6, 10]})
    arrays = prepare_idx(raw_dir, ds)
    out = tmp_path / "prepared" / "tiny"
    (out / "stale").mkdir(parents=True)  # the directory is replaced whole
    write_prepared(out, arrays, make_info("tiny", ds, arrays, hashes))
    assert sorted(p.name for p in out.iterdir()) == ["info.json", "splits.npz"]
    loaded = load_prepared(out)
    for key in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(loaded, key), arrays[key])
    assert loaded.image_shape == (1, 28, 28)
    info = json.loads((out / "info.json").read_text())
    assert info["counts"] == {"train": 6, "valid": 4, "test": 4}
    assert info["source_sha256"] == hashes and info["dataset"] == "tiny"


def test_load_prepared_refuses_a_skipped_directory(tmp_path):
    io.write_skipped(tmp_path / "p", "data.tiny.enabled is false")
    with pytest.raises(StageError, match="skipped: data.tiny.enabled is false"):
        load_prepared(tmp_path / "p")


def test_load_prepared_reports_a_missing_directory(tmp_path):
    with pytest.raises(StageError, match=r"splits\.npz: file not found"):
        load_prepared(tmp_path / "nothing")


def test_mnist_has_no_folds_and_folds_round_trip(tmp_path, raw):
    raw_dir, hashes = raw
    ds = _dataset(hashes, {"train": [0, 6], "valid": [6, 10]})
    arrays = prepare_idx(raw_dir, ds)
    write_prepared(tmp_path / "plain", arrays, make_info("tiny", ds, arrays, hashes))
    assert load_prepared(tmp_path / "plain").folds == ()
    rng = np.random.default_rng(0)
    folded = dict(arrays)
    for k in range(3):
        folded[f"fold{k}_valid"] = rng.random((k + 1, 784), dtype=np.float32)
        folded[f"fold{k}_test"] = rng.random((k + 2, 784), dtype=np.float32)
    info = make_info("tiny", ds, arrays, hashes) | {"folds": 3}
    write_prepared(tmp_path / "folded", folded, info)
    loaded = load_prepared(tmp_path / "folded")
    assert len(loaded.folds) == 3
    for k, (valid, test) in enumerate(loaded.folds):
        np.testing.assert_array_equal(valid, folded[f"fold{k}_valid"])
        np.testing.assert_array_equal(test, folded[f"fold{k}_test"])
    np.testing.assert_array_equal(loaded.train, arrays["train"])


def test_load_prepared_names_a_missing_fold_array(tmp_path, raw):
    raw_dir, hashes = raw
    ds = _dataset(hashes, {"train": [0, 6], "valid": [6, 10]})
    arrays = prepare_idx(raw_dir, ds)
    write_prepared(tmp_path / "p", arrays, make_info("tiny", ds, arrays, hashes))
    info = json.loads((tmp_path / "p" / "info.json").read_text()) | {"folds": 1}
    (tmp_path / "p" / "info.json").write_text(json.dumps(info))
    with pytest.raises(StageError, match=r"splits\.npz: missing array 'fold0_valid'"):
        load_prepared(tmp_path / "p")
