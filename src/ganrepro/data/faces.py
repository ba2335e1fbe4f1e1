"""An open substitute for TFD: LFW (funneled) faces as 48x48 grayscale images in [0, 1].

NOT the paper's data: a Parzen number on it is not comparable to the paper's TFD number.
``lfw-funneled.tgz`` (datasets.md §3.5; Huang et al. 2007) holds ``lfw_funneled/<Person_Name>/
<Person_Name>_<nnnn>.jpg``: 13,233 JPEGs of 250x250 RGB, each face centred by the LFW detector
and aligned by funneling. The archive's members are all checked before anything is read (see
:mod:`ganrepro.data.archive`); nothing is extracted to disk.

Each image, in sorted member-path order (which groups images by person): decoded with Pillow,
converted to grayscale with PIL mode "L" (ITU-R 601-2 luma, L = 299/1000 R + 587/1000 G +
114/1000 B), cropped to the 94x94 square at rows 86:180, cols 78:172 (the width and centre of
scikit-learn's ``fetch_lfw_people`` default crop, rows 70:195, cols 78:172), resized to 48x48 with
Pillow's LANCZOS filter (antialiased when shrinking), then uint8 / 255 as float32, flattened
row-major to 2304. train, valid and test are [start, stop) rows of that sorted list given by
``data.<name>.splits``; they must not overlap.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ganrepro.config import Dataset
from ganrepro.data.archive import iter_files
from ganrepro.data.prepare import info_header, source_hashes, split_rows, splits_key
from ganrepro.io import StageError

ARCHIVE = "lfw-funneled.tgz"
TOP = "lfw_funneled"
MEMBER = re.compile(rf"{TOP}/[^/]+/[^/]+\.jpg", re.IGNORECASE)  # top/person/image.jpg
SOURCE_SIZE = (250, 250)  # (width, height) of every LFW image
CROP_BOX = (78, 86, 172, 180)  # (left, top, right, bottom): cols 78:172, rows 86:180
SIDE = 48
IMAGE_SHAPE = (1, SIDE, SIDE)
RESAMPLE = Image.Resampling.LANCZOS
SPLITS = ("train", "valid", "test")


def face_pixels(data: bytes, where: str) -> np.ndarray:
    """One LFW JPEG's bytes -> (48, 48) uint8: grayscale, the fixed square crop, LANCZOS resize."""
    try:
        with Image.open(BytesIO(data)) as img:
            if img.format != "JPEG":
                raise StageError(f"{where}: a {img.format} image, expected a JPEG")
            if img.size != SOURCE_SIZE:
                raise StageError(
                    f"{where}: image is {img.size[0]}x{img.size[1]}, expected "
                    f"{SOURCE_SIZE[0]}x{SOURCE_SIZE[1]} (LFW)"
                )
            gray = img.convert("L")
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise StageError(f"{where}: cannot decode image ({err})") from None
    face = gray.crop(CROP_BOX).resize((SIDE, SIDE), RESAMPLE)
    return np.asarray(face, dtype=np.uint8)


def read_faces(archive: str | Path) -> tuple[list[str], np.ndarray]:
    """(sorted member names, (N, 48, 48) uint8 faces in that order) of the archive's JPEGs."""
    faces = {
        name: face_pixels(data, f"{archive}: {name}")
        for name, data in iter_files(archive, lambda n: MEMBER.fullmatch(n) is not None)
    }
    if not faces:
        raise StageError(f"{archive}: no {TOP}/<person>/<image>.jpg files in the archive")
    names = sorted(faces)
    return names, np.stack([faces[n] for n in names])


def check_disjoint(splits: dict, key: str) -> None:
    """Refuse overlapping [start, stop) row ranges (train, valid and test share one list)."""
    ranges = sorted((tuple(splits[s]), s) for s in SPLITS)
    for (a, name_a), (b, name_b) in zip(ranges, ranges[1:], strict=False):
        if b[0] < a[1]:
            raise StageError(
                f"params.yaml: '{key}.{name_a}' {list(a)} and '{key}.{name_b}' {list(b)} overlap"
            )


def person(name: str) -> str:
    """The person folder of a member name ``lfw_funneled/<person>/<image>.jpg``."""
    return name.split("/")[1]


def prepare_faces(
    raw_dir: str | Path, ds: Dataset, name: str | None = None
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Read ``raw_dir/lfw-funneled.tgz`` and cut the splits of ``ds``.

    Returns:
        ({"train", "valid", "test"}: float32 (N, 2304) in [0, 1], sorted member names).
    """
    raw_dir = Path(raw_dir)
    key = splits_key(ds, raw_dir, name, SPLITS)
    missing = [s for s in SPLITS if s not in ds.splits]
    if missing:
        raise StageError(f"params.yaml: missing key '{key}.{missing[0]}'")
    check_disjoint(ds.splits, key)
    names, faces = read_faces(raw_dir / ARCHIVE)
    source = f"sorted JPEGs of {ARCHIVE}"
    arrays = {}
    for split in SPLITS:
        rows = split_rows(faces, ds.splits, split, key, source=source)
        arrays[split] = rows.reshape(len(rows), -1).astype(np.float32) / np.float32(255)
    return arrays, names


def split_summary(names: list[str], splits: dict) -> dict:
    """Per split: first and last image, people, and people also in train (identity overlap)."""
    people = {s: {person(n) for n in names[slice(*splits[s])]} for s in SPLITS}
    return {
        s: {
            "first": names[splits[s][0]],
            "last": names[splits[s][1] - 1],
            "people": len(people[s]),
            "people_also_in_train": len(people[s] & people["train"]) if s != "train" else None,
        }
        for s in SPLITS
    }


def make_info(
    name: str, ds: Dataset, arrays: dict, names: list[str], hashes: dict[str, str]
) -> dict:
    """The provenance record written next to the arrays."""
    left, top, right, bottom = CROP_BOX
    return {
        **info_header(name, ds, IMAGE_SHAPE, arrays),
        "substitute_for": "TFD (not comparable to the paper's TFD number)",
        "counts": {k: len(v) for k, v in arrays.items()} | {"images_in_archive": len(names)},
        "splits": {s: list(ds.splits[s]) for s in SPLITS}
        | {"rows_of": "the archive's JPEGs in sorted member-path order (grouped by person)"},
        "split_summary": split_summary(names, ds.splits),
        "pixels": "uint8 / 255 as float32 in [0, 1], flattened row-major to 2304",
        "preprocessing": {
            "grayscale": "PIL convert('L'): L = 299/1000 R + 587/1000 G + 114/1000 B",
            "crop": {"rows": [top, bottom], "cols": [left, right], "of": "250x250"},
            "resize": f"Pillow {RESAMPLE.name} to {SIDE}x{SIDE}",
        },
        "source_sha256": hashes,
    }


def prepare(raw_dir: str | Path, ds: Dataset, name: str) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and info of the prepared faces (hashes checked against params first)."""
    hashes = source_hashes(raw_dir, ds, name)
    arrays, names = prepare_faces(raw_dir, ds, name)
    return arrays, make_info(name, ds, arrays, names, hashes)
