"""IDX reader/writer: round trip and every malformed-file check."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from ganrepro.data.idx import (
    decode_idx,
    encode_idx,
    read_images,
    read_labeled,
    read_labels,
    write_idx_gz,
)
from ganrepro.io import StageError


def _gz(path, data: bytes):
    path.write_bytes(gzip.compress(data))
    return path


def test_round_trip_images_and_labels(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 5, dtype=np.uint8)
    write_idx_gz(tmp_path / "i.gz", images)
    write_idx_gz(tmp_path / "l.gz", labels)
    got_images, got_labels = read_labeled(tmp_path / "i.gz", tmp_path / "l.gz")
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_writer_header_matches_the_mnist_layout():
    data = encode_idx(np.zeros((3, 28, 28), np.uint8))
    assert struct.unpack(">4I", data[:16]) == (2051, 3, 28, 28)
    assert len(data) == 16 + 3 * 784
    assert struct.unpack(">2I", encode_idx(np.zeros(7, np.uint8))[:8]) == (2049, 7)


def test_writer_is_byte_reproducible(tmp_path):
    a = np.arange(784 * 2, dtype=np.int64).astype(np.uint8).reshape(2, 28, 28)
    write_idx_gz(tmp_path / "a.gz", a)
    write_idx_gz(tmp_path / "b.gz", a)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_writer_rejects_non_uint8():
    with pytest.raises(TypeError, match="uint8"):
        encode_idx(np.zeros((1, 28, 28), np.float32))


def test_labels_file_is_not_an_images_file(tmp_path):
    write_idx_gz(tmp_path / "l.gz", np.zeros(4, np.uint8))
    with pytest.raises(
        StageError, match=r"l\.gz: IDX magic is 0x00000801 \(2049\), expected 0x00000803 \(2051\)"
    ):
        read_images(tmp_path / "l.gz")


def test_wrong_type_byte_is_rejected(tmp_path):
    path = _gz(tmp_path / "x.gz", struct.pack(">2I", 0x0D01, 1) + b"\0" * 4)  # float32 labels
    with pytest.raises(StageError, match=r"x\.gz: IDX magic is 0x00000d01"):
        read_labels(path)


def test_truncated_payload_is_rejected(tmp_path):
    data = encode_idx(np.zeros((3, 28, 28), np.uint8))[:-1]
    path = _gz(tmp_path / "t.gz", data)
    with pytest.raises(
        StageError,
        match=r"t\.gz: IDX payload truncated: .*\[3, 28, 28\] needs 2352 bytes, got 2351",
    ):
        read_images(path)


def test_extra_bytes_are_rejected(tmp_path):
    path = _gz(tmp_path / "e.gz", encode_idx(np.zeros(4, np.uint8)) + b"\x07")
    with pytest.raises(
        StageError, match=r"e\.gz: IDX payload has extra bytes: .* needs 4 bytes, got 5"
    ):
        read_labels(path)


def test_truncated_header_is_rejected(tmp_path):
    path = _gz(tmp_path / "h.gz", struct.pack(">3I", 2051, 3, 28))
    with pytest.raises(StageError, match="header needs 16 bytes, file has 12"):
        read_images(path)


def test_truncated_gzip_stream_is_rejected(tmp_path):
    write_idx_gz(tmp_path / "g.gz", np.zeros((2, 28, 28), np.uint8))
    (tmp_path / "g.gz").write_bytes((tmp_path / "g.gz").read_bytes()[:-10])
    with pytest.raises(StageError, match=r"g\.gz: not a valid gzip file"):
        read_images(tmp_path / "g.gz")


def test_uncompressed_file_is_rejected(tmp_path):
    (tmp_path / "raw").write_bytes(encode_idx(np.zeros(4, np.uint8)))
    with pytest.raises(StageError, match="not a valid gzip file"):
        read_labels(tmp_path / "raw")


def test_wrong_label_count_is_rejected(tmp_path):
    write_idx_gz(tmp_path / "i.gz", np.zeros((3, 28, 28), np.uint8))
    write_idx_gz(tmp_path / "l.gz", np.zeros(2, np.uint8))
    with pytest.raises(StageError, match=r"l\.gz: 2 labels, expected 3"):
        read_labeled(tmp_path / "i.gz", tmp_path / "l.gz")


def test_decode_names_its_source():
    with pytest.raises(StageError, match="^somewhere: 2 bytes, too short"):
        decode_idx(b"\0\0", 1, "somewhere")
