"""Which float columns can be stored as float32 and still read back bit for bit (docs/storage.md).

A value read from text with ``d`` decimals is the float64 nearest to ``m / 10**d``; most of
its 52 mantissa bits are the binary expansion of that fraction, not information. Such a
column is stored as float32 with the field metadata ``decimals = d`` when

* every value ``v`` satisfies ``np.round(v, d) == v`` for some ``d`` in 0..:data:`MAX_DECIMALS`
  (the smallest such ``d`` is used; NaN is a null in the file and stays NaN), and
* ``max |v| * 10**d < 2**22``: float32 then holds every value to within a quarter of its
  last decimal, so ``round(float32, d)`` gives ``m / 10**d`` again, i.e. ``v`` itself, in any
  tool whose ``round`` multiplies, rounds to an integer and divides (numpy, DuckDB, Polars,
  pandas), whether it rounds halves up or to even.

The writer still checks the round trip on every value before it narrows a column, so a
column is either float64 as given or float32 that :func:`restore` turns back into exactly
the float64 values written. Latitude and longitude (7 decimals), times after a lap's start
is subtracted, and computed channels stay float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from storage.types import FloatArray

#: the most decimals a float32 column may carry (beyond, float32 spans too little)
MAX_DECIMALS = 6
#: ``max |v| * 10**d`` must stay below this for float32 to hold the value's last decimal
FLOAT32_SPAN = float(2**22)
#: values tried first, so a column that fails (most of them on noisy data) costs little
HEAD_ROWS = 2048
#: the field metadata key holding the decimals of a float32 column
DECIMALS_KEY = b"decimals"


def _smallest_decimals(values: FloatArray, start: int) -> int | None:
    """The smallest ``d >= start`` with ``np.round(values, d) == values`` (no NaN in values)."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: v * 10**d overflows
        for d in range(start, MAX_DECIMALS + 1):
            if np.array_equal(np.round(values, d), values):
                return d
    return None


def _present(values: FloatArray) -> FloatArray:
    """The values that are not NaN (the array itself when it has none)."""
    values = np.asarray(values, np.float64)
    nan = np.isnan(values)
    return values[~nan] if nan.any() else values


def float32_decimals(arrays: Sequence[FloatArray]) -> int | None:
    """The decimals ``d`` to store these arrays (one column's laps) as float32, or None: float64.

    None also for an all-NaN column (nothing to gain) and for one holding infinities.
    """
    longest = max(arrays, key=len, default=None)
    if longest is None or len(longest) == 0:
        return None
    # a sample spread over the longest lap first: most columns that fail, fail here
    head = _present(np.asarray(longest[:: max(1, len(longest) // HEAD_ROWS)][:HEAD_ROWS], np.float64))
    d = _smallest_decimals(head, 0) if head.shape[0] else 0
    if d is None or (head.shape[0] and float(np.max(np.abs(head))) * 10.0**d >= FLOAT32_SPAN):
        return None
    present = [p for p in (_present(a) for a in arrays) if p.shape[0]]
    if not present:
        return None
    top = 0.0
    for values in present:
        found = _smallest_decimals(values, d)
        if found is None:
            return None
        d = found  # a larger d holds for the earlier laps too (m/10**d == 10m/10**(d+1))
        top = max(top, float(np.max(np.abs(values))))
        if top * 10.0**d >= FLOAT32_SPAN:  # also refuses inf
            return None
    for values in present:
        if not np.array_equal(restore(values.astype(np.float32), d), values):
            return None
    return d


def restore(stored: np.ndarray, decimals: int) -> FloatArray:
    """The float64 values a float32 column with ``decimals`` stands for (NaN stays NaN)."""
    values: FloatArray = np.asarray(stored, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.round(values, decimals)
