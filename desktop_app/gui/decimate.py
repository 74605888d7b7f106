"""Viewport decimation: never hand a curve more points than there are pixels across.

Qt-free numpy used by the channel plots and the track map. ``minmax`` keeps each pixel
column's extremes (so spikes survive, like pyqtgraph's "peak" mode) but, unlike
pyqtgraph's auto downsampling (about ten points per pixel), guarantees the bound.
"""

from __future__ import annotations

import numpy as np

from storage.types import FloatArray


def finite_xy(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The samples where both x and y exist: a curve joins its own samples only."""
    keep = np.isfinite(x) & np.isfinite(y)
    if bool(keep.all()):
        return x, y
    return x[keep], y[keep]


def visible_slice(x: FloatArray, x0: float, x1: float) -> slice:
    """Indices of a non-decreasing ``x`` within [x0, x1], plus one sample either side.

    The extra samples let the line run to the edges of the view.
    """
    lo = int(np.searchsorted(x, x0, side="left")) - 1
    hi = int(np.searchsorted(x, x1, side="right")) + 1
    return slice(max(lo, 0), min(hi, x.size))


def minmax(x: FloatArray, y: FloatArray, x0: float, x1: float, pixels: int) -> tuple[FloatArray, FloatArray]:
    """At most ``pixels`` points of (x, y) between x0 and x1 (x non-decreasing, no NaN).

    The range is cut into ``pixels // 2`` equal x buckets; a bucket with more than two
    samples becomes its minimum and its maximum (in that order, at the bucket's first x).
    """
    pixels = max(int(pixels), 2)
    part = visible_slice(x, x0, x1)
    xs, ys = x[part], y[part]
    if xs.size <= pixels:
        return xs, ys
    buckets = pixels // 2
    edges = np.searchsorted(xs, np.linspace(xs[0], xs[-1], buckets + 1)[:-1], side="left")
    starts = np.unique(edges)
    lows = np.minimum.reduceat(ys, starts)
    highs = np.maximum.reduceat(ys, starts)
    out_x = np.repeat(xs[starts], 2)
    out_y = np.empty(starts.size * 2, dtype=np.float64)
    out_y[0::2] = lows
    out_y[1::2] = highs
    return out_x, out_y


def stride(n: int, limit: int) -> int:
    """The step that keeps ``n`` samples to at most ``limit`` points."""
    limit = max(int(limit), 1)
    return max(1, -(-n // limit))
