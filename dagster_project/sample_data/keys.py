"""Identifiers and other strings built column-wise (pyarrow compute), and a counter-based hash for
attributes that must not depend on which other units are selected (a commune's transaction day is
the same whether one commune or the whole country is generated)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def padded(numbers, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")


def join(*parts) -> pa.Array:
    """Element-wise concatenation of string scalars and string arrays."""
    arrays = [pa.scalar(p) if isinstance(p, str) else (p if isinstance(p, (pa.Array, pa.ChunkedArray)) else pa.array(p, pa.string()))
              for p in parts]
    return pc.binary_join_element_wise(*arrays, "")


def code(prefix: str, numbers, width: int) -> pa.Array:
    """`code("KH08", [1, 2], 7)` -> ["KH080000001", "KH080000002"]."""
    return join(prefix, padded(numbers, width))


def pick(values, index) -> pa.Array:
    """values[index] as an Arrow string array; index -1 gives null."""
    index = np.asarray(index, dtype=np.int64)
    taken = pa.array(np.asarray(values, dtype=object), pa.string()).take(pa.array(np.maximum(index, 0)))
    if (index < 0).any():
        taken = pc.if_else(pa.array(index < 0), pa.scalar(None, pa.string()), taken)
    return taken


def to_numpy(array: pa.Array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=object)


def hash_uniform(seed: int, keys, salt: int) -> np.ndarray:
    """A uniform [0, 1) number per key (splitmix64 of seed, salt and key)."""
    x = np.asarray(keys, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x ^= np.uint64((seed * 1_000_003 + salt) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        x += np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def choice_by_row(u: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """Per-row categorical draw: row i takes the first category whose cumulative share exceeds u[i]
    (`cumulative` has one row of cumulative shares per draw)."""
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), cumulative.shape[1] - 1)
