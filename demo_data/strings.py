"""Vectorized string building on Arrow arrays (no Python loop per row)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
B64URL = ALNUM + b"-_"
HEX = b"0123456789abcdef"
HEX_UPPER = b"0123456789ABCDEF"


def sarr(values: Sequence[str] | np.ndarray) -> pa.Array:
    """A pyarrow string array from a small Python list or numpy array."""
    return pa.array(values, type=pa.string())


def const(value: str, n: int) -> pa.Array:
    """``n`` times the same string."""
    return pa.repeat(pa.scalar(value, pa.string()), n)


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation; null if any array part is null. Scalars broadcast."""
    arrays = [p for p in parts if not isinstance(p, str)]
    if not arrays:
        raise ValueError("concat needs at least one array")
    return pc.binary_join_element_wise(*parts, "")


def concat_skip(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Element-wise join that skips null parts."""
    return pc.binary_join_element_wise(*parts, sep, null_handling="skip")


def take(values: Sequence[str] | pa.Array, idx: np.ndarray) -> pa.Array:
    """``values[idx]`` as a string array (``values`` a small lookup table)."""
    table = values if isinstance(values, pa.Array) else sarr(list(values))
    return table.take(pa.array(np.asarray(idx, dtype=np.int64)))


def nullify(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    """``arr`` with the rows where ``mask`` is true set to null."""
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)


def substr(arr: pa.Array, start: int, stop: int) -> pa.Array:
    return pc.utf8_slice_codeunits(arr, start, stop)


def where(mask: np.ndarray, a: pa.Array | str, b: pa.Array | str) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), a, b)


def ints(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as decimal strings, left-padded with zeros to ``width``."""
    out = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(out, width, "0") if width else out


def ints_nullable(values: np.ndarray, null_mask: np.ndarray) -> pa.Array:
    return nullify(ints(values), null_mask)


def money(cents: np.ndarray) -> pa.Array:
    """Integer cents as a decimal string with two places: 123456 -> '1234.56'."""
    cents = np.asarray(cents, dtype=np.int64)
    neg = cents < 0
    a = np.abs(cents)
    out = concat(ints(a // 100), ".", ints(a % 100, 2))
    return where(neg, concat("-", out), out) if neg.any() else out


def decimal3(milli: np.ndarray, strip: bool = True) -> pa.Array:
    """Integer thousandths as a decimal string: 1500 -> '1.5', 2000 -> '2'."""
    milli = np.asarray(milli, dtype=np.int64)
    frac = ints(milli % 1000, 3)
    if strip:
        frac = pc.utf8_rtrim(frac, "0")
    whole = ints(milli // 1000)
    with_frac = concat(whole, ".", frac)
    return where(np.asarray(pc.equal(frac, "")), whole, with_frac)


def tokens(rng: np.random.Generator, n: int, length: int, alphabet: bytes = ALNUM) -> pa.Array:
    """``n`` random strings of ``length`` characters from ``alphabet``."""
    lut = np.frombuffer(alphabet, dtype=np.uint8)
    codes = rng.integers(0, len(lut), size=(n, length), dtype=np.uint8)
    data = lut[codes].tobytes()
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def to_bytes(arr: pa.Array | pa.ChunkedArray) -> memoryview:
    """The concatenation of all strings of a null-free string array (a view, no copy)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    if len(arr) == 0:
        return memoryview(b"")
    if arr.null_count:
        raise ValueError("to_bytes needs a null-free array")
    if arr.type == pa.large_string():
        off_type = np.int64
    else:
        arr = arr.cast(pa.string())
        off_type = np.int32
    bufs = arr.buffers()
    size = np.dtype(off_type).itemsize
    offsets = np.frombuffer(bufs[1], dtype=off_type, count=len(arr) + 1, offset=arr.offset * size)
    return memoryview(bufs[2])[int(offsets[0]) : int(offsets[-1])]
