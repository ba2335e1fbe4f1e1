"""Mirror fallback, hash verification and atomic placement of downloaded files."""

from __future__ import annotations

import socket

import pytest
from fixtures import make_idx_mirror, serve_directory

from ganrepro.config import ConfigError, Dataset, build
from ganrepro.data.download import (
    MirrorError,
    fetch_dataset,
    fetch_file,
    mirror_location,
    sha256_file,
)
from ganrepro.io import StageError

NAME = "t10k-labels-idx1-ubyte.gz"


@pytest.fixture
def mirror(tmp_path):
    """A directory with the four generated files, and their sha256s."""
    hashes = make_idx_mirror(tmp_path / "mirror", n_train=6, n_test=3, seed=1)
    return tmp_path / "mirror", hashes


def _dataset(mirrors, hashes) -> Dataset:
    raw = {
        "enabled": True,
        "format": "idx",
        "mirrors": [str(m) for m in mirrors],
        "files": {k: [v] for k, v in hashes.items()},
        "splits": {"train": [0, 4], "valid": [4, 6]},
    }
    return build(Dataset, raw, "data.test")


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _only_files(directory):
    return sorted(p.name for p in directory.iterdir())


def test_local_directory_mirror(tmp_path, mirror):
    src, hashes = mirror
    manifest = fetch_dataset(_dataset([src], hashes), tmp_path / "out", progressbar=False)
    assert set(manifest) == set(hashes)
    for name, entry in manifest.items():
        assert entry == {
            "sha256": hashes[name],
            "bytes": (src / name).stat().st_size,
            "source": str(src),
        }
        assert (tmp_path / "out" / name).read_bytes() == (src / name).read_bytes()
    assert _only_files(tmp_path / "out") == sorted(hashes)  # no temp files left behind


def test_relative_directory_mirror_uses_base_dir(tmp_path, mirror):
    _, hashes = mirror
    ds = _dataset(["mirror"], {NAME: hashes[NAME]})
    manifest = fetch_dataset(ds, tmp_path / "out", base_dir=tmp_path, progressbar=False)
    assert manifest[NAME]["source"] == "mirror"
    assert sha256_file(tmp_path / "out" / NAME) == hashes[NAME]


def test_file_url_mirror(tmp_path, mirror):
    src, hashes = mirror
    url = src.as_uri()  # file:///...
    manifest = fetch_dataset(_dataset([url], hashes), tmp_path / "out", progressbar=False)
    assert {e["source"] for e in manifest.values()} == {url}
    assert all(sha256_file(tmp_path / "out" / n) == h for n, h in hashes.items())


def test_http_mirror_through_pooch(tmp_path, mirror):
    src, hashes = mirror
    with serve_directory(src) as url:
        manifest = fetch_dataset(_dataset([url], hashes), tmp_path / "out", progressbar=True)
    assert {e["source"] for e in manifest.values()} == {url}
    for name in hashes:
        assert (tmp_path / "out" / name).read_bytes() == (src / name).read_bytes()


def test_hash_mismatch_falls_through_to_next_mirror(tmp_path, mirror, capsys):
    src, hashes = mirror
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / NAME).write_bytes(b"not the right bytes")
    sha, used = fetch_file(
        NAME, [hashes[NAME]], [str(bad), str(src)], tmp_path / "out", progressbar=False
    )
    assert (sha, used) == (hashes[NAME], str(src))
    assert (tmp_path / "out" / NAME).read_bytes() == (src / NAME).read_bytes()
    err = capsys.readouterr().err
    assert f"mirror {bad} failed: sha256 mismatch: got {sha256_file(bad / NAME)}" in err
    assert f"mirror {src} failed" not in err


def test_http_404_falls_through_to_next_mirror(tmp_path, mirror, capsys):
    src, hashes = mirror
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve_directory(empty) as url:
        _, used = fetch_file(
            NAME, [hashes[NAME]], [url, str(src)], tmp_path / "out", progressbar=False
        )
    assert used == str(src)
    assert "HTTP error: 404" in capsys.readouterr().err


def test_all_mirrors_failing_raises_one_line_naming_file_and_reasons(tmp_path, mirror):
    _, hashes = mirror
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / NAME).write_bytes(b"corrupt")
    mirrors = [str(tmp_path / "missing"), str(bad), _closed_port_url(), "ftp://example.org/x/"]
    with pytest.raises(StageError) as info:
        fetch_file(NAME, [hashes[NAME]], mirrors, tmp_path / "out", progressbar=False)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{NAME}: every mirror failed: ")
    assert "not found" in msg and "sha256 mismatch" in msg
    assert "cannot connect" in msg and "unsupported mirror scheme 'ftp'" in msg
    assert msg.count("; ") == len(mirrors) - 1
    assert not (tmp_path / "out" / NAME).exists()  # nothing unverified is left in place
    assert _only_files(tmp_path / "out") == []


def test_good_present_file_is_not_refetched(tmp_path, mirror):
    src, hashes = mirror
    out = tmp_path / "out"
    fetch_dataset(_dataset([src], hashes), out, progressbar=False)
    inode = (out / NAME).stat().st_ino
    previous = {NAME: {"sha256": hashes[NAME], "bytes": 1, "source": "https://example.org/"}}
    # The only mirror is missing: a refetch attempt would raise.
    ds = _dataset([tmp_path / "missing"], hashes)
    manifest = fetch_dataset(ds, out, previous=previous, progressbar=False)
    assert (out / NAME).stat().st_ino == inode
    assert manifest[NAME]["source"] == "https://example.org/"
    assert manifest["train-images-idx3-ubyte.gz"]["source"] == "already present"


def test_bad_present_file_is_refetched(tmp_path, mirror):
    src, hashes = mirror
    out = tmp_path / "out"
    out.mkdir()
    (out / NAME).write_bytes(b"stale")
    sha, used = fetch_file(NAME, [hashes[NAME]], [str(src)], out, progressbar=False)
    assert used == str(src) and sha == hashes[NAME]
    assert sha256_file(out / NAME) == hashes[NAME]


def test_any_accepted_hash_matches(tmp_path, mirror):
    src, hashes = mirror
    accepted = ["0" * 64, hashes[NAME]]
    sha, _ = fetch_file(NAME, accepted, [str(src)], tmp_path / "out", progressbar=False)
    assert sha == hashes[NAME]


@pytest.mark.parametrize(
    ("mirror", "expected"),
    [
        ("https://host/mnist/", ("http", "https://host/mnist/f.gz")),
        ("file:///data/x/", ("local", "/data/x/f.gz")),
        ("/data/x", ("local", "/data/x/f.gz")),  # several files: a local path is a directory
        ("/data/x/", ("local", "/data/x/f.gz")),
    ],
)
def test_mirror_location(mirror, expected):
    assert mirror_location(mirror, "f.gz") == expected


@pytest.mark.parametrize(
    ("mirror", "expected"),
    [
        ("https://host/files/5976015", ("http", "https://host/files/5976015")),
        ("https://host/lfw/", ("http", "https://host/lfw/f.gz")),
        ("file:///data/x.tgz", ("local", "/data/x.tgz")),
        ("file:///data/x/", ("local", "/data/x/f.gz")),
        ("/data/x.tgz", ("local", "/data/x.tgz")),
    ],
)
def test_mirror_location_of_a_single_file_dataset(mirror, expected):
    assert mirror_location(mirror, "f.gz", single_file=True) == expected


def test_existing_local_directory_without_slash_is_a_directory_even_for_one_file(tmp_path):
    assert mirror_location(str(tmp_path), "f.gz", single_file=True) == (
        "local",
        str(tmp_path / "f.gz"),
    )
    assert mirror_location(tmp_path.as_uri(), "f.gz", single_file=True) == (
        "local",
        str(tmp_path / "f.gz"),
    )


def test_url_of_one_file_for_a_dataset_of_several_files_is_an_error(mirror):
    _, hashes = mirror
    with pytest.raises(MirrorError, match="does not end in '/', so it is the URL of one file"):
        mirror_location("https://host/mnist", "f.gz")
    with pytest.raises(
        ConfigError,
        match=r"'data\.test\.mirrors\[1\]' is 'https://host/mnist', the URL of one file "
        r"\(no trailing '/'\), but data\.test\.files lists 4 files \(end a base URL with '/'\)",
    ):
        _dataset(["https://host/ok/", "https://host/mnist"], hashes)
    one = _dataset(["https://host/files/123"], {NAME: hashes[NAME]})  # fine for one file
    assert one.mirrors == ("https://host/files/123",)


def test_exact_url_mirror_over_http(tmp_path, mirror):
    src, hashes = mirror
    with serve_directory(src) as url:
        exact = url + NAME
        ds = _dataset([url + "not-there", exact], {NAME: hashes[NAME]})
        manifest = fetch_dataset(ds, tmp_path / "out", progressbar=False)
    assert manifest[NAME]["source"] == exact
    assert (tmp_path / "out" / NAME).read_bytes() == (src / NAME).read_bytes()
