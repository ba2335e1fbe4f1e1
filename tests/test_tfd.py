"""TFD from the user's own .mat: the skip saying how to obtain it, every check, the fold arrays."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from fixtures import load_stage, make_tfd_mat, write_data_params

from ganrepro import io
from ganrepro.data import tfd
from ganrepro.data.download import sha256_file
from ganrepro.data.prepare import load_prepared
from ganrepro.io import StageError

download = load_stage("download")
prepare = load_stage("prepare")
SEED = 11
N_UNLABELED, N_LABELED = 14, 12


def _params(root, path, files=None, splits=None, enabled=True):
    write_data_params(
        root / "params.yaml",
        "tfd",
        mirrors=[],
        hashes=files or {},
        splits=splits or {},
        enabled=enabled,
        fmt="tfd_mat",
        path=None if path is None else str(path),
    )


def _run(stage, root):
    return stage.main(["tfd", "--root", str(root)])


@pytest.fixture
def user_file(tmp_path):
    """A valid TFD_48x48.mat outside the project, and its variables."""
    path = tmp_path / "elsewhere" / "TFD_48x48.mat"
    return path, make_tfd_mat(path, N_UNLABELED, N_LABELED, SEED)


# ---------------------------------------------------------------- absent file


def test_absent_path_skips_both_stages_saying_how_to_obtain_the_file(tmp_path, capsys):
    _params(tmp_path, None)
    assert _run(download, tmp_path) == 0
    reason = io.skipped_reason(tmp_path / "data/raw/tfd")
    assert reason == tfd.HOW_TO_OBTAIN
    assert "not publicly downloadable" in reason and "Josh Susskind" in reason
    assert "data.tfd.path" in reason and "TFD_48x48.mat" in reason
    assert _run(prepare, tmp_path) == 0
    assert io.skipped_reason(tmp_path / "data/prepared/tfd") == reason
    assert "Josh Susskind" in capsys.readouterr().err
    with pytest.raises(StageError, match="skipped: TFD is not publicly downloadable"):
        load_prepared(tmp_path / "data/prepared/tfd")


def test_disabled_skip_wins_over_a_path(tmp_path, user_file):
    _params(tmp_path, user_file[0], enabled=False)
    assert _run(download, tmp_path) == 0
    assert io.skipped_reason(tmp_path / "data/raw/tfd") == "data.tfd.enabled is false"


def test_path_to_a_missing_file_is_a_one_line_error(tmp_path, capsys):
    _params(tmp_path, "nowhere/TFD_48x48.mat")
    assert _run(download, tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: params.yaml: 'data.tfd.path' is 'nowhere/TFD_48x48.mat': file not found"


# ---------------------------------------------------------------- the real path


def test_copy_then_prepare_gives_the_exact_fold_rows(tmp_path, user_file):
    path, mat = user_file
    _params(tmp_path, path)
    assert _run(download, tmp_path) == 0
    raw = tmp_path / "data/raw/tfd"
    assert sorted(p.name for p in raw.iterdir()) == ["TFD_48x48.mat", "manifest.json"]
    assert (raw / "TFD_48x48.mat").read_bytes() == path.read_bytes()
    manifest = json.loads((raw / "manifest.json").read_text())
    assert manifest == {
        "TFD_48x48.mat": {
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
            "source": str(path),
        }
    }
    assert _run(prepare, tmp_path) == 0
    data = load_prepared(tmp_path / "data/prepared/tfd")

    images, folds = mat["images"], mat["folds"]
    flat = images.reshape(len(images), 2304).astype(np.float32) / np.float32(255)
    assert (folds[:, 0] == 0).sum() == N_UNLABELED
    np.testing.assert_array_equal(data.train, flat[folds[:, 0] == 0])
    np.testing.assert_array_equal(data.valid, flat[folds[:, 0] == 2])
    np.testing.assert_array_equal(data.test, flat[folds[:, 0] == 3])
    assert len(data.folds) == 5
    for k, (valid, test) in enumerate(data.folds):
        np.testing.assert_array_equal(valid, flat[folds[:, k] == 2])
        np.testing.assert_array_equal(test, flat[folds[:, k] == 3])
        assert valid.dtype == np.float32 and len(valid) == 4 and len(test) == 4
    assert not np.array_equal(data.folds[0][0], data.folds[1][0])  # folds really differ
    assert data.image_shape == (1, 48, 48)
    assert data.info["folds"] == 5 and data.info["source_sha256"] == manifest_sha(manifest)
    # a pixel: row-major, image 0 of the unlabeled set, row 3, col 7
    first = np.flatnonzero(folds[:, 0] == 0)[0]
    assert data.train[0, 3 * 48 + 7] == np.float32(images[first, 3, 7]) / np.float32(255)


def manifest_sha(manifest: dict) -> dict:
    return {name: entry["sha256"] for name, entry in manifest.items()}


def test_relative_path_is_relative_to_the_project_root(tmp_path):
    make_tfd_mat(tmp_path / "mine" / "TFD_48x48.mat", N_UNLABELED, N_LABELED, SEED)
    _params(tmp_path, "mine/TFD_48x48.mat")
    assert _run(download, tmp_path) == 0
    assert (tmp_path / "data/raw/tfd/TFD_48x48.mat").is_file()


def test_listed_hashes_are_checked(tmp_path, user_file, capsys):
    path, _ = user_file
    _params(tmp_path, path, files={"TFD_48x48.mat": "0" * 64})
    assert _run(download, tmp_path) == 2
    err = capsys.readouterr().err
    assert f"{path}: sha256 mismatch: got {sha256_file(path)}, accepted 000000000000..." in err
    assert not (tmp_path / "data/raw/tfd").exists()
    _params(tmp_path, path, files={"TFD_48x48.mat": sha256_file(path)})
    assert _run(download, tmp_path) == 0
    assert _run(prepare, tmp_path) == 0
    _params(tmp_path, path, files={"TFD_48x48.mat": "1" * 64})  # params changed after the copy
    assert _run(prepare, tmp_path) == 2
    assert "not accepted by 'data.tfd.files'" in capsys.readouterr().err
    _params(tmp_path, path, files={"other.mat": "1" * 64})
    assert _run(download, tmp_path) == 2
    assert "'data.tfd.files' may list only TFD_48x48.mat" in capsys.readouterr().err


def test_splits_must_stay_empty(tmp_path, user_file, capsys):
    _params(tmp_path, user_file[0])
    assert _run(download, tmp_path) == 0
    _params(tmp_path, user_file[0], splits={"train": [0, 5]})
    assert _run(prepare, tmp_path) == 2
    assert "'data.tfd.splits' must be empty: TFD's splits are its folds" in capsys.readouterr().err


# ---------------------------------------------------------------- bad files


BAD_FILES = {
    "missing images": (
        {"images": None},
        r"missing variable 'images' \(found: folds, labs_ex, labs_id\)",
    ),
    "images not 48x48": (
        {"images": np.zeros((26, 32, 32), np.uint8)},
        r"'images' has shape \[26, 32, 32\], expected \[N, 48, 48\]",
    ),
    "images not uint8": (
        {"images": np.zeros((26, 48, 48), np.float64)},
        r"'images' has dtype float64, expected uint8",
    ),
    "folds with 4 columns": (
        {"folds": np.zeros((26, 4), np.uint8)},
        r"'folds' has shape \[26, 4\], expected \[26, 5\]",
    ),
    "folds with fewer rows": (
        {"folds": np.zeros((25, 5), np.uint8)},
        r"'folds' has shape \[25, 5\], expected \[26, 5\]",
    ),
    "fold code 4": (
        {"folds": np.full((26, 5), 4, np.uint8)},
        r"'folds' holds code 4, expected 0 \(unlabeled\), 1 \(train\), 2 \(valid\) or 3 \(test\)",
    ),
    "labs_id too short": (
        {"labs_id": np.zeros((3, 1), np.int16)},
        r"'labs_id' has 3 values, expected 26 \(one per image\)",
    ),
    "missing labs_ex": ({"labs_ex": None}, r"missing variable 'labs_ex'"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_mat_is_refused_before_any_copy_with_one_line(tmp_path, case, capsys):
    replace, message = BAD_FILES[case]
    path = tmp_path / "TFD_48x48.mat"
    make_tfd_mat(path, N_UNLABELED, N_LABELED, SEED, **replace)
    with pytest.raises(StageError, match=rf"^{re.escape(str(path))}: {message}"):
        tfd.read_tfd(path)
    _params(tmp_path, path)
    assert _run(download, tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert not (tmp_path / "data/raw/tfd").exists()


def test_fold_codes_that_are_not_integers_and_folds_without_a_split(tmp_path):
    n = N_UNLABELED + N_LABELED
    folds = make_tfd_mat(tmp_path / "a.mat", N_UNLABELED, N_LABELED, SEED)["folds"]
    make_tfd_mat(tmp_path / "b.mat", N_UNLABELED, N_LABELED, SEED, folds=folds.astype(float) + 0.5)
    with pytest.raises(StageError, match=r"b\.mat: 'folds' holds code 0\.5, expected 0"):
        tfd.read_tfd(tmp_path / "b.mat")
    no_test = folds.copy()
    no_test[no_test[:, 2] == 3, 2] = 1
    make_tfd_mat(tmp_path / "c.mat", N_UNLABELED, N_LABELED, SEED, folds=no_test)
    with pytest.raises(
        StageError, match=r"c\.mat: fold 2 has no test images \(code 3 in column 2"
    ):
        tfd.read_tfd(tmp_path / "c.mat")
    all_labeled = np.ones((n, 5), np.uint8)
    make_tfd_mat(tmp_path / "d.mat", N_UNLABELED, N_LABELED, SEED, folds=all_labeled)
    with pytest.raises(StageError, match=r"d\.mat: no unlabeled images \(code 0 in fold 0\)"):
        tfd.read_tfd(tmp_path / "d.mat")


def test_not_a_mat_file_and_matlab_v73(tmp_path):
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"certainly not a MATLAB file " * 20)
    with pytest.raises(StageError, match=r"junk\.mat: not a readable MATLAB \.mat file \("):
        tfd.read_tfd(junk)
    # A MATLAB v7.3 file is HDF5 behind a 128-byte MATLAB header whose version field is 0x0200.
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116, b" ")
    v73 = tmp_path / "v73.mat"
    v73.write_bytes(header + bytes(8) + b"\x00\x02IM" + bytes(512))
    with pytest.raises(StageError) as info:
        tfd.read_tfd(v73)
    assert str(info.value) == (
        f"{v73}: MATLAB v7.3 (HDF5) .mat file, which scipy.io.loadmat cannot read; "
        "re-save it in MATLAB with save(..., '-v7')"
    )
