"""The LFW face substitute: JPEG -> 48x48 gray crop, sorted order, splits, and the stages."""

from __future__ import annotations

import json
import shutil
import tarfile
from io import BytesIO

import numpy as np
import pytest
from fixtures import (
    lfw_jpeg,
    load_stage,
    make_lfw_archive,
    serve_directory,
    tar_member,
    tiny_dataset,
    write_data_params,
    write_tar_gz,
)
from PIL import Image

from ganrepro.config import Dataset
from ganrepro.data.faces import face_pixels, prepare_faces
from ganrepro.data.prepare import load_prepared
from ganrepro.io import StageError

PEOPLE = {"Zoe_Z": 2, "Bob_B": 3, "Alice_A": 2, "Carl_C": 4}  # 11 images
SPLITS = {"train": [0, 7], "valid": [7, 9], "test": [9, 11]}

download = load_stage("download")
prepare = load_stage("prepare")


def _dataset(hashes, splits=SPLITS) -> Dataset:
    return tiny_dataset(hashes, splits, fmt="lfw_faces")


def _jpeg(array: np.ndarray, fmt: str = "JPEG") -> bytes:
    buf = BytesIO()
    options = {"quality": 100} if fmt == "JPEG" else {}
    Image.fromarray(array).save(buf, fmt, **options)
    return buf.getvalue()


# ---------------------------------------------------------------- one image


def test_crop_is_rows_86_180_cols_78_172_of_the_250x250_image():
    rgb = np.zeros((250, 250, 3), np.uint8)
    rgb[86:180, 78:172] = 255  # exactly the crop square is white, the rest black
    face = face_pixels(_jpeg(rgb), "x.jpg")
    assert face.shape == (48, 48) and face.dtype == np.uint8
    assert face[2:-2, 2:-2].min() >= 245  # all white inside (JPEG ringing only at the edges)
    shifted = np.zeros_like(rgb)
    shifted[96:190, 78:172] = 255  # 10 rows lower: the top ~5 output rows turn dark
    assert face_pixels(_jpeg(shifted), "x.jpg")[:4].max() < 60


def test_matches_pil_gray_crop_and_lanczos_resize():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (250, 250, 3), dtype=np.uint8)
    data = _jpeg(rgb)
    with Image.open(BytesIO(data)) as img:
        gray = img.convert("L")  # ITU-R 601-2 luma
    expect = np.asarray(gray.crop((78, 86, 172, 180)).resize((48, 48), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(face_pixels(data, "x.jpg"), expect)
    other = np.asarray(gray.crop((78, 86, 172, 180)).resize((48, 48), Image.Resampling.NEAREST))
    assert not np.array_equal(expect, other)  # the filter matters, so the test can tell


def test_a_gray_rgb_image_keeps_its_level():
    assert set(np.unique(face_pixels(lfw_jpeg(90), "x.jpg")).tolist()) <= {89, 90, 91}


def test_wrong_size_wrong_format_and_corrupt_images_are_named():
    small = _jpeg(np.zeros((62, 47, 3), np.uint8))
    with pytest.raises(StageError, match=r"^a/b\.jpg: image is 47x62, expected 250x250 \(LFW\)$"):
        face_pixels(small, "a/b.jpg")
    png = _jpeg(np.zeros((250, 250, 3), np.uint8), fmt="PNG")
    with pytest.raises(StageError, match=r"^a/b\.jpg: a PNG image, expected a JPEG$"):
        face_pixels(png, "a/b.jpg")
    with pytest.raises(StageError, match=r"^a/b\.jpg: cannot decode image"):
        face_pixels(b"\xff\xd8\xff garbage", "a/b.jpg")
    truncated = lfw_jpeg(100)[:300]
    with pytest.raises(StageError, match=r"^a/b\.jpg: cannot decode image"):
        face_pixels(truncated, "a/b.jpg")


# ---------------------------------------------------------------- the archive


@pytest.fixture
def raw(tmp_path):
    sha, names, levels = make_lfw_archive(tmp_path / "tiny", PEOPLE)
    return tmp_path / "tiny", {"lfw-funneled.tgz": sha}, names, levels


def test_rows_are_the_jpegs_in_sorted_path_order_split_by_params(raw):
    raw_dir, hashes, names, levels = raw
    arrays, got_names = prepare_faces(raw_dir, _dataset(hashes))
    assert got_names == names == sorted(names) and len(names) == 11
    assert got_names[0] == "lfw_funneled/Alice_A/Alice_A_0001.jpg"  # README.txt is not an image
    expect_levels = [levels[n] for n in names]  # written in reverse order, so sorting matters
    rows = np.concatenate([arrays["train"], arrays["valid"], arrays["test"]])
    assert [len(arrays[s]) for s in ("train", "valid", "test")] == [7, 2, 2]
    assert rows.dtype == np.float32 and rows.shape == (11, 2304)
    np.testing.assert_allclose(rows.mean(axis=1) * 255, expect_levels, atol=1.0)
    assert rows.min() >= 0.0 and rows.max() <= 1.0


def test_split_params_are_checked(raw):
    raw_dir, hashes, _, _ = raw
    with pytest.raises(StageError, match=r"'data\.tiny\.splits\.test' is \[9, 12\), past the 11"):
        prepare_faces(raw_dir, _dataset(hashes, SPLITS | {"test": [9, 12]}), "tiny")
    overlap = {"train": [0, 8], "valid": [7, 9], "test": [9, 11]}
    with pytest.raises(
        StageError,
        match=r"'data\.tiny\.splits\.train' \[0, 8\] and 'data\.tiny\.splits\.valid' \[7, 9\] "
        "overlap",
    ):
        prepare_faces(raw_dir, _dataset(hashes, overlap), "tiny")
    with pytest.raises(StageError, match=r"missing key 'data\.tiny\.splits\.test'"):
        prepare_faces(raw_dir, _dataset(hashes, {"train": [0, 7], "valid": [7, 9]}), "tiny")
    with pytest.raises(StageError, match=r"unknown split 'data\.tiny\.splits\.extra'"):
        prepare_faces(raw_dir, _dataset(hashes, SPLITS | {"extra": [0, 1]}), "tiny")


@pytest.mark.parametrize(
    "member",
    [
        tar_member("/lfw_funneled/A/A_0001.jpg"),
        tar_member("lfw_funneled/../../A_0001.jpg"),
        tar_member("lfw_funneled/A/A_0002.jpg", tarfile.SYMTYPE, "/etc/passwd"),
    ],
    ids=["absolute", "dotdot", "symlink"],
)
def test_hostile_member_is_refused(tmp_path, member):
    files = {"lfw_funneled/A/A_0001.jpg": lfw_jpeg(50)}
    sha = write_tar_gz(tmp_path / "tiny" / "lfw-funneled.tgz", files, extra=(member,))
    with pytest.raises(StageError, match=rf"refusing archive member {member.name!r}: "):
        prepare_faces(tmp_path / "tiny", _dataset({"lfw-funneled.tgz": sha}))


def test_archive_without_lfw_jpegs_is_an_error(tmp_path):
    sha = write_tar_gz(tmp_path / "tiny" / "lfw-funneled.tgz", {"lfw/A/A_0001.jpg": b"x"})
    with pytest.raises(StageError, match=r"no lfw_funneled/<person>/<image>\.jpg files"):
        prepare_faces(tmp_path / "tiny", _dataset({"lfw-funneled.tgz": sha}))


# ---------------------------------------------------------------- stages


def _project(root, mirrors, hashes):
    write_data_params(
        root / "params.yaml",
        "faces",
        mirrors=mirrors,
        hashes=hashes,
        splits=SPLITS,
        fmt="lfw_faces",
    )


def _check_prepared(root, hashes):
    assert prepare.main(["faces", "--root", str(root)]) == 0
    data = load_prepared(root / "data/prepared/faces")
    assert data.image_shape == (1, 48, 48) and data.folds == ()
    assert [len(data.train), len(data.valid), len(data.test)] == [7, 2, 2]
    info = data.info
    assert info["source_sha256"] == hashes
    assert "not comparable" in info["substitute_for"]
    assert info["preprocessing"]["crop"] == {"rows": [86, 180], "cols": [78, 172], "of": "250x250"}
    summary = info["split_summary"]
    # sorted: Alice 2, Bob 3, Carl 4, Zoe 2 -> train = Alice, Bob, Carl 1-2; valid Carl 3-4
    assert summary["valid"]["first"] == "lfw_funneled/Carl_C/Carl_C_0003.jpg"
    assert summary["valid"]["people_also_in_train"] == 1
    assert summary["test"]["people"] == 1 and summary["test"]["people_also_in_train"] == 0


def test_exact_url_mirror_over_http_then_prepare(tmp_path):
    # figshare style: the URL names the file itself, under another name than the dataset's file
    served = tmp_path / "served"
    sha, _, _ = make_lfw_archive(served / "files", PEOPLE, name="5976015")
    hashes = {"lfw-funneled.tgz": sha}
    with serve_directory(served) as url:
        exact = url + "files/5976015"
        _project(tmp_path, [exact], hashes)
        assert download.main(["faces", "--root", str(tmp_path)]) == 0
    raw = tmp_path / "data/raw/faces"
    assert sorted(p.name for p in raw.iterdir()) == ["lfw-funneled.tgz", "manifest.json"]
    manifest = json.loads((raw / "manifest.json").read_text())
    assert manifest["lfw-funneled.tgz"]["source"] == exact
    assert manifest["lfw-funneled.tgz"]["sha256"] == sha
    _check_prepared(tmp_path, hashes)


def test_exact_file_and_directory_mirrors_fall_through(tmp_path, capsys):
    sha, _, _ = make_lfw_archive(tmp_path / "mirror", PEOPLE)
    hashes = {"lfw-funneled.tgz": sha}
    exact_file = str(tmp_path / "mirror" / "lfw-funneled.tgz")
    _project(tmp_path, ["missing-file.tgz", exact_file], hashes)
    assert download.main(["faces", "--root", str(tmp_path)]) == 0
    assert f"not found: {tmp_path / 'missing-file.tgz'}" in capsys.readouterr().err
    _check_prepared(tmp_path, hashes)
    shutil.rmtree(tmp_path / "data")
    base_url = (tmp_path / "mirror").as_uri() + "/"  # the base-URL form still works
    _project(tmp_path, [base_url], hashes)
    assert download.main(["faces", "--root", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "data/raw/faces/manifest.json").read_text())
    assert manifest["lfw-funneled.tgz"]["source"] == base_url
