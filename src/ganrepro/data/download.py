"""Fetch the files of a dataset from an ordered list of mirrors, verifying SHA-256 before use.

A mirror (``data.<name>.mirrors`` in params.yaml) is an ``https://`` or ``http://`` URL
(downloaded with pooch's HTTP downloader), a ``file://`` URL, or a plain local path (copied).
A mirror ending in "/", or a local directory, holds each file under its own name. For a dataset
of one file, any other mirror is the exact location of the file itself (e.g. a figshare download
URL); the file is still stored under its name in ``files``. For a dataset of several files such an
http(s) URL is refused and a local path is taken as a directory. Each file is written to a
temporary file next to its destination, checked against the accepted SHA-256 list, and only then
renamed into place, so a partial or corrupted file never appears under its real name. Mirrors are
tried in order per file; each failure is one line on stderr.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pooch
import requests

from ganrepro.config import Dataset
from ganrepro.io import StageError, atomic_path

_CHUNK = 1 << 20


class MirrorError(Exception):
    """One mirror could not provide one file; the message is the one-line reason."""


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def mirror_location(
    mirror: str, name: str, base_dir: Path | None = None, *, single_file: bool = False
) -> tuple[str, str]:
    """Where ``mirror`` holds file ``name``: ("http", url) or ("local", path).

    A mirror ending in "/" (and a local directory) holds ``name`` inside it. When ``single_file``
    (the dataset has exactly one file), any other mirror is the file's exact URL or path; for a
    dataset of several files an http(s) mirror without the "/" is an error and a local path is a
    directory. A relative local path is taken relative to ``base_dir`` (default: the current
    directory).
    """
    scheme = urllib.parse.urlparse(mirror).scheme.lower()
    if scheme in ("http", "https"):
        if mirror.endswith("/"):
            return "http", urllib.parse.urljoin(mirror, name)
        if single_file:
            return "http", mirror
        raise MirrorError(
            "does not end in '/', so it is the URL of one file, but the dataset has several "
            "files (end a base URL with '/')"
        )
    if scheme == "file":
        parts = urllib.parse.urlparse(mirror)
        if parts.netloc not in ("", "localhost"):
            raise MirrorError(f"file:// URL with a remote host {parts.netloc!r} is not supported")
        path = Path(urllib.request.url2pathname(parts.path))
    elif scheme and len(scheme) > 1:  # one letter would be a Windows drive, i.e. a directory
        raise MirrorError(f"unsupported mirror scheme {scheme!r} (use https, http, file or a dir)")
    else:
        path = Path(mirror).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
    if single_file and not mirror.endswith("/") and not path.is_dir():
        return "local", str(path)
    return "local", str(path / name)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _copy_to(kind: str, where: str, dest: Path, progressbar: bool) -> None:
    """Copy the file at ``where`` to ``dest``; raise MirrorError with the reason on failure."""
    try:
        if kind == "http":
            pooch.HTTPDownloader(progressbar=progressbar)(where, str(dest), None)
        else:
            shutil.copyfile(where, dest)
    except requests.HTTPError as err:
        raise MirrorError(f"HTTP error: {_one_line(err)}") from None
    except requests.ConnectionError as err:
        reason = getattr(err.args[0], "reason", err) if err.args else err  # urllib3's root cause
        raise MirrorError(f"cannot connect: {_one_line(reason)}") from None
    except requests.RequestException as err:
        raise MirrorError(f"network error: {_one_line(err)}") from None
    except FileNotFoundError:
        raise MirrorError(f"not found: {where}") from None
    except OSError as err:
        raise MirrorError(f"cannot read {where}: {_one_line(err)}") from None


def _check_hash(path: Path, accepted: Sequence[str]) -> str:
    got = sha256_file(path)
    if got not in accepted:
        short = ", ".join(h[:12] + "..." for h in accepted)
        raise MirrorError(f"sha256 mismatch: got {got}, accepted {short}")
    return got


def fetch_from_mirror(
    name: str,
    accepted: Sequence[str],
    mirror: str,
    dest: Path,
    *,
    base_dir: Path | None = None,
    progressbar: bool = True,
    single_file: bool = False,
) -> str:
    """Fetch ``name`` from one mirror into ``dest`` (renamed in only if its hash is accepted).

    Returns:
        The verified SHA-256. Raises MirrorError with a one-line reason otherwise.
    """
    kind, where = mirror_location(mirror, name, base_dir, single_file=single_file)
    with atomic_path(dest) as tmp:
        _copy_to(kind, where, tmp, progressbar)
        return _check_hash(tmp, accepted)


def fetch_file(
    name: str,
    accepted: Sequence[str],
    mirrors: Sequence[str],
    directory: Path,
    *,
    base_dir: Path | None = None,
    progressbar: bool = True,
    single_file: bool = False,
) -> tuple[str, str | None]:
    """Make ``directory/name`` a verified copy, trying ``mirrors`` in order.

    ``single_file``: the dataset has only this file, so a mirror may be its exact URL.

    Returns:
        (sha256, mirror used), with mirror None when a good copy was already present.
    """
    dest = directory / name
    if dest.is_file():
        present = sha256_file(dest)
        if present in accepted:
            return present, None
        print(f"download: {dest} has unaccepted sha256 {present}; fetching again", file=sys.stderr)
    failures = []
    for mirror in mirrors:
        try:
            sha = fetch_from_mirror(
                name,
                accepted,
                mirror,
                dest,
                base_dir=base_dir,
                progressbar=progressbar,
                single_file=single_file,
            )
        except MirrorError as err:
            print(f"download: {name}: mirror {mirror} failed: {err}", file=sys.stderr)
            failures.append(f"{mirror}: {err}")
            continue
        print(f"download: {name}: verified, from {mirror}", file=sys.stderr)
        return sha, mirror
    raise StageError(f"{name}: every mirror failed: " + "; ".join(failures))


def fetch_dataset(
    ds: Dataset,
    directory: str | Path,
    *,
    base_dir: Path | None = None,
    previous: dict | None = None,
    progressbar: bool = True,
) -> dict:
    """Fetch and verify every file of ``ds`` into ``directory``.

    Args:
        ds: the dataset's params (files with accepted SHA-256s, mirrors in order).
        directory: destination; files already there with an accepted hash are kept, not refetched.
        base_dir: directory that relative local mirrors are relative to (default: the current one).
        previous: an earlier manifest, whose ``source`` is reused for files kept as they were.
        progressbar: show pooch's progress bar for HTTP downloads (on stderr).

    Returns:
        The manifest {file name: {"sha256", "bytes", "source"}}.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {}
    single_file = len(ds.files) == 1
    for name, accepted in ds.files.items():
        sha, mirror = fetch_file(
            name,
            accepted,
            ds.mirrors,
            directory,
            base_dir=base_dir,
            progressbar=progressbar,
            single_file=single_file,
        )
        if mirror is None:
            mirror = _previous_source(previous, name, sha)
        size = (directory / name).stat().st_size
        manifest[name] = {"sha256": sha, "bytes": size, "source": mirror}
    return manifest


def copy_verified(src: str | Path, dest: str | Path, accepted: Sequence[str]) -> str:
    """Copy the local file ``src`` to ``dest`` atomically; return its SHA-256.

    With a non-empty ``accepted`` list the copy is renamed into place only if its hash is in it
    (StageError otherwise); with an empty list any content is taken (no checksum is known).
    """
    src, dest = Path(src), Path(dest)
    with atomic_path(dest) as tmp:
        try:
            shutil.copyfile(src, tmp)
        except FileNotFoundError:
            raise StageError(f"{src}: file not found") from None
        except OSError as err:
            raise StageError(f"{src}: cannot read: {_one_line(err)}") from None
        try:
            return _check_hash(tmp, accepted) if accepted else sha256_file(tmp)
        except MirrorError as err:
            raise StageError(f"{src}: {err}") from None


def _previous_source(previous: dict | None, name: str, sha: str) -> str:
    entry = (previous or {}).get(name, {})
    if entry.get("sha256") == sha and entry.get("source"):
        return entry["source"]
    return "already present"
