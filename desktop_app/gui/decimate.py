"""Viewport decimation: never hand a curve more points than there are pixels across.

Qt-free numpy used by the channel plots and the track map. ``minmax`` keeps each pixel
column's extremes (so spikes survive, like pyqtgraph's "peak" mode) but, unlike
pyqtgraph's auto downsampling (about ten points per pixel), guarantees the bound.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

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
    """At most ``pixels`` real samples of (x, y) between x0 and x1 (x non-decreasing, no NaN).

    The range is cut into ``pixels // 2`` equal x buckets; each bucket keeps its lowest and
    its highest sample, at their own x and in their own order, so the line keeps its shape
    and every extreme while never exceeding one point per pixel.
    """
    pixels = max(int(pixels), 2)
    part = visible_slice(x, x0, x1)
    xs, ys = x[part], y[part]
    if xs.size <= pixels:
        return xs, ys
    buckets = pixels // 2
    edges = np.searchsorted(xs, np.linspace(xs[0], xs[-1], buckets + 1)[:-1], side="left")
    starts = np.unique(edges)
    counts = np.diff(np.append(starts, xs.size))
    bucket = np.repeat(np.arange(starts.size), counts)
    low_at = _first_match(ys == np.repeat(np.minimum.reduceat(ys, starts), counts), bucket)
    high_at = _first_match(ys == np.repeat(np.maximum.reduceat(ys, starts), counts), bucket)
    picks = np.sort(np.stack([low_at, high_at], axis=1), axis=1).ravel()
    return xs[picks], ys[picks]


def _first_match(hit: npt.NDArray[np.bool_], bucket: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Index of the first True of each bucket (every bucket has one)."""
    where = np.flatnonzero(hit)
    _, first = np.unique(bucket[where], return_index=True)
    return where[first]


def stride(n: int, limit: int) -> int:
    """The step that keeps ``n`` samples to at most ``limit`` points."""
    limit = max(int(limit), 1)
    return max(1, -(-n // limit))
