"""Reader and writer for gzip-compressed IDX files (MNIST's format; datasets.md §1.3).

An IDX file is big-endian: a 4-byte magic (two zero bytes, a type code, the number of
dimensions), one uint32 size per dimension, then the values, row-major. MNIST images have magic
0x00000803 = 2051 (ubyte, 3 dims: N, rows, cols); labels have 0x00000801 = 2049 (ubyte, 1 dim: N).
Every check failure is a one-line :class:`StageError` naming the file, what was expected and what
was found.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from ganrepro.io import StageError, write_bytes

UBYTE = 0x08  # IDX type code of unsigned bytes, the only type MNIST-format files use
IMAGES_MAGIC = 0x0803  # 2051: ubyte, 3 dimensions
LABELS_MAGIC = 0x0801  # 2049: ubyte, 1 dimension


def encode_idx(array: np.ndarray) -> bytes:
    """Uncompressed IDX bytes of a uint8 array (any number of dimensions, 1 to 255)."""
    if array.dtype != np.uint8:
        raise TypeError(f"IDX writer supports uint8 only, got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = struct.pack(f">I{array.ndim}I", (UBYTE << 8) | array.ndim, *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx_gz(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as a gzip-compressed IDX file, atomically and byte-reproducibly."""
    write_bytes(path, gzip.compress(encode_idx(array), mtime=0))


def decode_idx(data: bytes, ndim: int, where: str) -> np.ndarray:
    """Parse IDX bytes holding a uint8 array of ``ndim`` dimensions; ``where`` names the source."""
    magic = (UBYTE << 8) | ndim
    if len(data) < 4:
        raise StageError(f"{where}: {len(data)} bytes, too short for an IDX magic number")
    (got,) = struct.unpack(">I", data[:4])
    if got != magic:
        raise StageError(
            f"{where}: IDX magic is 0x{got:08x} ({got}), expected 0x{magic:08x} ({magic}) "
            f"for a uint8 file with {ndim} dimension(s)"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise StageError(f"{where}: IDX header needs {header_len} bytes, file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    expected = int(np.prod(shape, dtype=np.int64))
    payload = len(data) - header_len
    if payload != expected:
        what = "truncated" if payload < expected else "has extra bytes"
        raise StageError(
            f"{where}: IDX payload {what}: header shape {list(shape)} needs {expected} bytes, "
            f"got {payload}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(shape)


def read_idx_gz(path: str | Path, ndim: int) -> np.ndarray:
    """Read a gzip-compressed uint8 IDX file of ``ndim`` dimensions (read-only array)."""
    path = Path(path)
    try:
        data = gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise StageError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as err:
        raise StageError(f"{path}: not a valid gzip file ({err})") from None
    return decode_idx(data, ndim, str(path))


def read_images(path: str | Path) -> np.ndarray:
    """Images of an ``*-images-idx3-ubyte.gz`` file, shape (N, rows, cols), uint8."""
    return read_idx_gz(path, 3)


def read_labels(path: str | Path) -> np.ndarray:
    """Labels of an ``*-labels-idx1-ubyte.gz`` file, shape (N,), uint8."""
    return read_idx_gz(path, 1)


def read_labeled(
    images_path: str | Path, labels_path: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one set; their counts must agree."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if len(labels) != len(images):
        raise StageError(
            f"{labels_path}: {len(labels)} labels, expected {len(images)} "
            f"(the image count of {Path(images_path).name})"
        )
    return images, labels
