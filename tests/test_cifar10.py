"""CIFAR-10 binary records, the authors' splits, GCN against hand computations, and the stages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures import (
    encode_cifar10_batch,
    load_stage,
    make_cifar10_archive,
    make_cifar10_batches,
    tiny_dataset,
    write_data_params,
)

from ganrepro.config import ConfigError, Dataset, build
from ganrepro.data import cifar10
from ganrepro.data.cifar10 import decode_batch, global_contrast_normalize, prepare_cifar10
from ganrepro.data.prepare import load_prepared
from ganrepro.io import StageError

SEED = 5
N = 4  # records per batch in the tiny archives: 20 training records, 4 test records
SPLITS = {"train": [0, 13], "valid": [13, 20]}


def _dataset(hashes, splits=SPLITS, gcn_scale=55.0, **extra) -> Dataset:
    return tiny_dataset(hashes, splits, fmt="cifar10_bin", gcn_scale=gcn_scale, **extra)


def _gcn_oracle(x: np.ndarray, scale: float) -> np.ndarray:
    """Per row: minus its mean, times scale / L2 norm (float64; rows here have large norms)."""
    x = x.astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    return x * scale / np.sqrt((x**2).sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- GCN


def test_gcn_two_images_by_hand():
    x = np.array([[12.5, 7.5, 12.5, 7.5], [1.0, 2.0, 3.0, 6.0]], np.float32)
    # row 0: mean 10, centred [2.5, -2.5, 2.5, -2.5], norm 5 -> x 55 / 5 = 11
    # row 1: mean 3, centred [-2, -1, 0, 3], norm sqrt(14)
    got = global_contrast_normalize(x, scale=55.0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got[0], [27.5, -27.5, 27.5, -27.5], rtol=1e-6)
    np.testing.assert_allclose(got[1], np.array([-2, -1, 0, 3]) * 55 / np.sqrt(14), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), [55, 55], rtol=1e-6)
    np.testing.assert_array_equal(x[0], [12.5, 7.5, 12.5, 7.5])  # the input is not modified


def test_gcn_constant_image_becomes_zeros_not_nan():
    x = np.array([[7.0, 7.0, 7.0, 7.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    got = global_contrast_normalize(x, scale=55.0)
    np.testing.assert_array_equal(got, np.zeros((2, 4), np.float32))


def test_gcn_tiny_divisor_is_left_undivided_as_pylearn2():
    # centred norm 2e-7: pylearn2 compares norm / scale = 3.6e-9 with 1e-8 and then divides by 1,
    # so the row stays centred but unscaled (dividing by the norm would give 27.5s)
    x = np.array([[1e-7, -1e-7, 1e-7, -1e-7]], np.float32)
    got = global_contrast_normalize(x, scale=55.0)
    np.testing.assert_allclose(got, x, rtol=1e-6)
    # with scale 1 the divisor 2e-7 is above 1e-8: divided, norm 1
    np.testing.assert_allclose(global_contrast_normalize(x, scale=1.0), [[0.5, -0.5, 0.5, -0.5]])


def test_gcn_rows_are_independent_of_chunking(monkeypatch):
    x = np.random.default_rng(0).integers(0, 256, (7, 3072)).astype(np.float32)
    whole = global_contrast_normalize(x, 55.0)
    monkeypatch.setattr(cifar10, "GCN_ROWS", 3)
    np.testing.assert_array_equal(global_contrast_normalize(x, 55.0), whole)
    np.testing.assert_allclose(whole, _gcn_oracle(x, 55.0), rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- records


def test_record_layout_is_label_then_r_g_b_planes_row_major():
    r = np.arange(32, dtype=np.uint8)[:, None].repeat(32, 1)  # R[row, col] = row
    g = np.arange(32, dtype=np.uint8)[None, :].repeat(32, 0)  # G[row, col] = col
    b = np.full((32, 32), 200, np.uint8)
    data = bytes([7]) + r.tobytes() + g.tobytes() + b.tobytes() + bytes([3]) + bytes(3072)
    pixels, labels = decode_batch(data, "x.bin")
    assert labels.tolist() == [7, 3] and pixels.shape == (2, 3072)
    chw = pixels[0].reshape(3, 32, 32)
    np.testing.assert_array_equal(chw[0], r)
    np.testing.assert_array_equal(chw[1], g)
    np.testing.assert_array_equal(chw[2], b)
    assert chw[0, 5, 9] == 5 and chw[1, 5, 9] == 9  # row 5, col 9


@pytest.mark.parametrize("size", [0, 3072, 3074, 2 * 3073 + 5])
def test_wrong_record_length_is_an_error(size):
    with pytest.raises(StageError, match=rf"^x\.bin: {size} bytes is not a whole number of 3073"):
        decode_batch(bytes(size), "x.bin")


def test_label_out_of_range_is_an_error():
    data = bytes([1]) + bytes(3072) + bytes([10]) + bytes(3072)
    with pytest.raises(StageError, match=r"x\.bin: record 1 has label 10, expected 0-9"):
        decode_batch(data, "x.bin")


# ---------------------------------------------------------------- prepare


@pytest.fixture
def raw(tmp_path):
    hashes = make_cifar10_archive(tmp_path / "tiny", N, SEED)
    return tmp_path / "tiny", hashes


def test_splits_are_the_exact_records_in_batch_order_after_gcn(raw):
    raw_dir, hashes = raw
    arrays = prepare_cifar10(raw_dir, _dataset(hashes))
    batches = make_cifar10_batches(N, SEED)
    train_file = np.concatenate(
        [batches[f"data_batch_{i}.bin"][0].reshape(N, 3072) for i in range(1, 6)]
    )
    test_file = batches["test_batch.bin"][0].reshape(N, 3072)
    expect = {"train": train_file[0:13], "valid": train_file[13:20], "test": test_file}
    assert set(arrays) == set(expect)
    for key, u8 in expect.items():
        assert arrays[key].dtype == np.float32 and arrays[key].shape == u8.shape
        np.testing.assert_allclose(arrays[key], _gcn_oracle(u8, 55.0), rtol=1e-4, atol=1e-4)
    assert arrays["train"].min() < -1.0  # GCN values, not [0, 1]


def test_gcn_scale_comes_from_params(raw):
    raw_dir, hashes = raw
    a = prepare_cifar10(raw_dir, _dataset(hashes, gcn_scale=55.0))["test"]
    b = prepare_cifar10(raw_dir, _dataset(hashes, gcn_scale=1.0))["test"]
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 55.0, rtol=1e-5)
    np.testing.assert_allclose(a, 55.0 * b, rtol=1e-5, atol=1e-5)


def test_bad_member_lengths_counts_and_splits_are_named(tmp_path):
    batches = make_cifar10_batches(N, SEED)
    hashes = make_cifar10_archive(
        tmp_path / "a", N, SEED, replace={"test_batch.bin": bytes(3 * 3073 + 1)}
    )
    with pytest.raises(
        StageError,
        match=r"cifar-10-binary\.tar\.gz: cifar-10-batches-bin/test_batch\.bin: 9220 bytes",
    ):
        prepare_cifar10(tmp_path / "a", _dataset(hashes))
    short = encode_cifar10_batch(*(a[:3] for a in batches["data_batch_3.bin"]))
    hashes = make_cifar10_archive(tmp_path / "b", N, SEED, replace={"data_batch_3.bin": short})
    with pytest.raises(
        StageError,
        match=r"cifar-10-batches-bin/data_batch_3\.bin has 3 records, expected 4 like "
        r"cifar-10-batches-bin/data_batch_1\.bin",
    ):
        prepare_cifar10(tmp_path / "b", _dataset(hashes))
    raw_dir, hashes = tmp_path / "a", make_cifar10_archive(tmp_path / "a", N, SEED)
    with pytest.raises(
        StageError, match=r"'data\.tiny\.splits\.valid' is \[13, 21\), past the 20 rows of"
    ):
        prepare_cifar10(raw_dir, _dataset(hashes, {"train": [0, 13], "valid": [13, 21]}), "tiny")
    with pytest.raises(StageError, match=r"unknown split 'data\.tiny\.splits\.test'"):
        prepare_cifar10(raw_dir, _dataset(hashes, SPLITS | {"test": [0, 1]}), "tiny")


def test_gcn_scale_is_required_for_cifar_and_only_for_it(raw):
    _, hashes = raw
    with pytest.raises(ConfigError, match=r"'data\.tiny\.gcn_scale' is required for cifar10_bin"):
        _dataset(hashes, gcn_scale=None)
    with pytest.raises(ConfigError, match=r"'data\.tiny\.gcn_scale' must be > 0"):
        _dataset(hashes, gcn_scale=0.0)
    raw_idx = {"enabled": True, "format": "idx", "mirrors": ["m/"], "files": {}, "splits": {}}
    with pytest.raises(ConfigError, match=r"'data\.x\.gcn_scale' is required for cifar10_bin"):
        build(Dataset, raw_idx | {"gcn_scale": 55.0}, "data.x")


# ---------------------------------------------------------------- stages


download = load_stage("download")
prepare = load_stage("prepare")


def _project(root, mirror):
    hashes = make_cifar10_archive(root / "mirror", N, SEED)
    write_data_params(
        root / "params.yaml",
        "cifar",
        mirrors=[mirror],
        hashes=hashes,
        splits=SPLITS,
        fmt="cifar10_bin",
        gcn_scale=55.0,
    )
    return hashes


@pytest.mark.parametrize("mirror_form", ["directory", "file_url"])
def test_download_then_prepare_through_the_stages(tmp_path, mirror_form):
    mirror = "mirror" if mirror_form == "directory" else (tmp_path / "mirror").as_uri() + "/"
    hashes = _project(tmp_path, mirror)
    args = ["cifar", "--root", str(tmp_path)]
    assert download.main(args) == 0
    manifest = json.loads((tmp_path / "data/raw/cifar/manifest.json").read_text())
    assert manifest["cifar-10-binary.tar.gz"]["sha256"] == hashes["cifar-10-binary.tar.gz"]
    assert manifest["cifar-10-binary.tar.gz"]["source"] == mirror
    assert prepare.main(args) == 0
    prepared = load_prepared(tmp_path / "data/prepared/cifar")
    assert prepared.image_shape == (3, 32, 32) and prepared.folds == ()
    assert [len(prepared.train), len(prepared.valid), len(prepared.test)] == [13, 7, 4]
    assert prepared.train.dtype == np.float32 and prepared.train.shape[1] == 3072
    np.testing.assert_allclose(np.linalg.norm(prepared.valid, axis=1), 55.0, rtol=1e-5)
    info = prepared.info
    assert info["preprocessing"]["gcn"]["scale"] == 55.0
    assert info["preprocessing"]["gcn"]["min_divisor"] == 1e-8
    assert info["source_sha256"] == hashes
    assert info["splits"]["train"] == [0, 13] and info["splits"]["valid"] == [13, 20]


def test_prepare_refuses_a_hostile_archive_with_one_line(tmp_path, capsys):
    from fixtures import tar_member, write_tar_gz

    sha = write_tar_gz(
        tmp_path / "mirror" / "cifar-10-binary.tar.gz",
        {"cifar-10-batches-bin/data_batch_1.bin": bytes(3073)},
        extra=(tar_member("../../outside.bin"),),
    )
    write_data_params(
        tmp_path / "params.yaml",
        "cifar",
        mirrors=["mirror"],
        hashes={"cifar-10-binary.tar.gz": sha},
        splits=SPLITS,
        fmt="cifar10_bin",
        gcn_scale=55.0,
    )
    args = ["cifar", "--root", str(tmp_path)]
    assert download.main(args) == 0  # the hash is right: the archive itself is the problem
    assert prepare.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: ") and err.endswith(
        "refusing archive member '../../outside.bin': '..' path component"
    )
    assert not (tmp_path / "data/prepared/cifar").exists()
    assert not (tmp_path / "outside.bin").exists()
