"""Read files out of a downloaded .tar.gz without extracting it, after checking every member.

Nothing is ever written to disk from an archive: members are read into memory. Before any member
is read, every member is checked, and the archive is refused (one-line :class:`StageError` naming
the archive and the member) if any has an absolute path, a ``..`` component, or is not a plain
file or directory (symlinks, hard links, devices, FIFOs), or if a name appears twice.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath

from ganrepro.io import StageError


def member_problem(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` is refused, or None when it is a plain file or directory at a safe path."""
    name = member.name
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return "absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "'..' path component"
    if member.issym():
        return f"symlink to {member.linkname!r}"
    if member.islnk():
        return f"hard link to {member.linkname!r}"
    if not (member.isfile() or member.isdir()):
        return "device, FIFO or other special file"
    return None


def check_members(members: list[tarfile.TarInfo], where: str) -> None:
    """Refuse the archive ``where`` unless every member is safe and every name is unique."""
    seen = set()
    for member in members:
        problem = member_problem(member)
        if problem is not None:
            raise StageError(f"{where}: refusing archive member {member.name!r}: {problem}")
        key = member.name.rstrip("/")
        if key in seen:
            raise StageError(f"{where}: refusing archive member {member.name!r}: appears twice")
        seen.add(key)


_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


@contextmanager
def open_checked(path: str | Path) -> Iterator[tuple[tarfile.TarFile, list[tarfile.TarInfo]]]:
    """Open a .tar.gz and list its members, refusing it unless every member is safe."""
    path = Path(path)
    if not path.is_file():
        raise StageError(f"{path}: file not found")
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = tar.getmembers()
            check_members(members, str(path))
            yield tar, members
    except _ERRORS as err:
        raise StageError(f"{path}: not a readable .tar.gz archive ({err})") from None


def iter_files(path: str | Path, select: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """Yield (member name, bytes) of the plain files whose name ``select`` accepts.

    Every member of the archive is checked first; files come in archive order (one forward pass
    after the listing).
    """
    with open_checked(path) as (tar, members):
        for member in members:
            if member.isfile() and select(member.name):
                yield member.name, tar.extractfile(member).read()


def read_files(path: str | Path, names: list[str]) -> dict[str, bytes]:
    """The bytes of exactly the plain files ``names`` (full member names) of the archive."""
    wanted = set(names)
    found = dict(iter_files(path, wanted.__contains__))
    missing = [n for n in names if n not in found]
    if missing:
        raise StageError(f"{path}: archive has no file {missing[0]!r}")
    return found
