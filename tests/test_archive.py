"""Safe reading of downloaded .tar.gz archives: every hostile member is refused before any read."""

from __future__ import annotations

import tarfile

import pytest
from fixtures import tar_member, write_tar_gz

from ganrepro.data.archive import iter_files, member_problem, read_files
from ganrepro.io import StageError

GOOD = {"top/a.bin": b"aaaa", "top/sub/b.bin": b"bb"}


def test_reads_the_named_files_without_extracting(tmp_path):
    path = tmp_path / "x.tar.gz"
    write_tar_gz(path, GOOD, extra=(tar_member("top", tarfile.DIRTYPE),))
    assert read_files(path, ["top/sub/b.bin", "top/a.bin"]) == {
        "top/a.bin": b"aaaa",
        "top/sub/b.bin": b"bb",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.tar.gz"]  # nothing extracted


def test_iter_files_selects_plain_files_in_archive_order(tmp_path):
    path = tmp_path / "x.tar.gz"
    write_tar_gz(path, {"z.txt": b"1", "a.bin": b"2", "m.bin": b"3"})
    got = list(iter_files(path, lambda name: name.endswith(".bin")))
    assert got == [("a.bin", b"2"), ("m.bin", b"3")]


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        (tar_member("/etc/passwd"), "absolute path"),
        (tar_member("top/../../evil.bin"), "'..' path component"),
        (tar_member(".."), "'..' path component"),
        (tar_member("top\\..\\evil.bin"), "'..' path component"),
        (tar_member("C:/evil.bin"), "absolute path"),
        (tar_member("top/link", tarfile.SYMTYPE, "/etc/passwd"), "symlink to '/etc/passwd'"),
        (tar_member("top/hard", tarfile.LNKTYPE, "top/a.bin"), "hard link to 'top/a.bin'"),
        (tar_member("top/dev", tarfile.CHRTYPE), "device, FIFO or other special file"),
        (tar_member("top/blk", tarfile.BLKTYPE), "device, FIFO or other special file"),
        (tar_member("top/fifo", tarfile.FIFOTYPE), "device, FIFO or other special file"),
    ],
)
def test_hostile_member_refuses_the_whole_archive_before_any_read(tmp_path, member, problem):
    path = tmp_path / "x.tar.gz"
    write_tar_gz(path, GOOD, extra=(member,))  # the hostile member comes last
    with pytest.raises(StageError) as info:
        read_files(path, ["top/a.bin"])  # a safe file that comes before it is not read either
    msg = str(info.value)
    assert msg == f"{path}: refusing archive member {member.name!r}: {problem}"
    assert "\n" not in msg
    assert member_problem(member) == problem


def test_safe_members_have_no_problem():
    assert member_problem(tar_member("top/a..b/c.bin")) is None  # '..' inside a name is fine
    assert member_problem(tar_member("top", tarfile.DIRTYPE)) is None


def test_duplicate_member_is_refused(tmp_path):
    path = tmp_path / "x.tar.gz"
    write_tar_gz(path, GOOD, extra=(tar_member("top/a.bin"),))
    with pytest.raises(StageError, match=r"refusing archive member 'top/a\.bin': appears twice"):
        read_files(path, ["top/a.bin"])


def test_missing_file_names_the_member(tmp_path):
    path = tmp_path / "x.tar.gz"
    write_tar_gz(path, GOOD)
    with pytest.raises(StageError, match=r"x\.tar\.gz: archive has no file 'top/c\.bin'$"):
        read_files(path, ["top/a.bin", "top/c.bin"])


def test_not_an_archive_and_truncated_and_absent(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"this is not gzip data at all")
    with pytest.raises(StageError, match=r"bad\.tar\.gz: not a readable \.tar\.gz archive"):
        read_files(bad, ["a"])
    good = tmp_path / "good.tar.gz"
    write_tar_gz(good, {"a": bytes(range(256)) * 200})
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(StageError, match=r"cut\.tar\.gz: not a readable \.tar\.gz archive"):
        read_files(cut, ["a"])
    with pytest.raises(StageError, match=r"nothing\.tar\.gz: file not found"):
        read_files(tmp_path / "nothing.tar.gz", ["a"])
