"""Time-base repairs shared by the readers (docs/formats.md#time-base, docs/formats.md#midnight-rollover).

Only provable repairs are made, and each one is reported as a warning:

- **Midnight rollover** of a time-of-day clock: a drop of more than 12 h from the
  previous row adds 86,400 s to that row and every later one.
- **Repeated timestamps** (compared as integer microseconds): identical rows -> the
  repeat is dropped; complementary rows (each cell present in at most one of them, or
  equal) -> merged into one; conflicting rows -> the first is kept, and the count of
  such rows is reported.
- **Backward steps** that are not a rollover are never sorted away. A step back of up
  to :data:`JITTER_S` is clock jitter: the samples stay in file order and a warning
  counts them (so ``time`` is then not strictly monotonic there). A larger step back
  means the file holds two time bases (concatenated sessions, a corrupt clock) that
  cannot be put on one axis without guessing: :class:`LoggerFileError` with the line.
- **Multi-rate sources** go on the sorted union of every real timestamp; a channel is
  NaN where it has no sample of its own. Nothing is resampled or forward-filled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from storage.types import FloatArray

from .recording import LoggerFileError

DAY_S = 86_400.0
#: a drop larger than this from one row to the next is a midnight rollover
ROLLOVER_DROP_S = 43_200.0
#: backward steps up to this size are clock jitter (kept, reported)
JITTER_S = 1.0

IntArray = npt.NDArray[np.int64]


def to_microseconds(seconds: FloatArray) -> IntArray:
    """Seconds as integer microseconds (the unit in which timestamps are compared)."""
    return np.rint(np.asarray(seconds, np.float64) * 1e6).astype(np.int64)


#: timestamps beyond this (about 300 years) are damage, not time, and do not fit int64 µs safely
MAX_ABS_S = 1e10


def checked_microseconds(
    seconds: FloatArray, path: str | Path, line_of: Callable[[int], int] | None = None, what: str = "time"
) -> IntArray:
    """:func:`to_microseconds`, after checking every value is a finite, plausible time."""
    t = np.asarray(seconds, np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(t) <= MAX_ABS_S)  # also catches NaN
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise LoggerFileError(
            path,
            f"{what} value {float(t[row])!r} is not a usable timestamp",
            line=line_of(row) if line_of else None,
            field_name=what,
        )
    return to_microseconds(t)


def unroll_midnight(
    seconds_of_day: FloatArray, warnings: list[str], line_of: Callable[[int], int] | None = None
) -> FloatArray:
    """Add 86,400 s from each row where a time-of-day clock drops by more than 12 h."""
    t = np.asarray(seconds_of_day, np.float64)
    if t.shape[0] < 2:
        return t
    with np.errstate(invalid="ignore"):
        drops = np.diff(t) < -ROLLOVER_DROP_S
    if not drops.any():
        return t
    where = np.flatnonzero(drops) + 1
    days = np.zeros(t.shape[0], np.float64)
    days[where] = DAY_S
    for row in where:
        at = f"line {line_of(int(row))}" if line_of else f"row {int(row)}"
        warnings.append(
            f"time passes midnight at {at} ({t[row - 1]:.2f} s -> {t[row]:.2f} s of day): 24 h added from there on"
        )
    return t + np.cumsum(days)


def check_backward_steps(
    time_us: IntArray, path: str | Path, warnings: list[str], line_of: Callable[[int], int] | None = None
) -> None:
    """Report backward steps: jitter (<= JITTER_S) is a warning, anything larger an error."""
    if time_us.shape[0] < 2:
        return
    steps = np.diff(time_us)
    back = np.flatnonzero(steps < 0)
    if back.shape[0] == 0:
        return
    big = back[steps[back] < -int(JITTER_S * 1e6)]
    if big.shape[0]:
        row = int(big[0]) + 1
        raise LoggerFileError(
            path,
            f"time goes back from {time_us[row - 1] / 1e6:.3f} s to {time_us[row] / 1e6:.3f} s "
            "(not a midnight rollover); Laptrace does not reorder samples",
            line=line_of(row) if line_of else None,
        )
    row = int(back[0]) + 1
    at = f"line {line_of(row)}" if line_of else f"row {row}"
    worst = -int(steps[back].min()) / 1e6
    warnings.append(
        f"time steps back {back.shape[0]} time(s) by up to {worst:.3f} s (first at {at}): "
        "clock jitter kept in file order, not sorted"
    )


def merge_repeated(
    time_us: IntArray, columns: Sequence[FloatArray], warnings: list[str]
) -> tuple[IntArray, list[FloatArray]]:
    """Collapse consecutive rows with the same timestamp (see the module docstring)."""
    n = time_us.shape[0]
    if n < 2:
        return time_us, list(columns)
    new_group = np.empty(n, bool)
    new_group[0] = True
    np.not_equal(time_us[1:], time_us[:-1], out=new_group[1:])
    if new_group.all():
        return time_us, list(columns)
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.append(starts, n))
    # only the groups of several rows need reducing (usually a few per cent of the rows):
    # gather their rows once, reduce those, and patch the merged values in
    multi_at = np.flatnonzero(sizes > 1)
    m_sizes = sizes[multi_at]
    m_starts = np.concatenate(([0], np.cumsum(m_sizes)[:-1]))  # group starts within `rows`
    rows = np.repeat(starts[multi_at] - m_starts, m_sizes) + np.arange(int(m_sizes.sum()))
    conflict = np.zeros(multi_at.shape[0], bool)
    partial = np.zeros(multi_at.shape[0], bool)
    lows: list[FloatArray] = []
    for v in columns:
        sub = v[rows]
        lo = np.fmin.reduceat(sub, m_starts)
        hi = np.fmax.reduceat(sub, m_starts)
        with np.errstate(invalid="ignore"):
            conflict |= (lo != hi) & ~np.isnan(lo)  # lo is NaN only for an all-NaN cell group
        nans = np.add.reduceat(np.isnan(sub), m_starts, dtype=np.int64)
        partial |= (nans > 0) & (nans < m_sizes)
        lows.append(lo)
    merge_at = multi_at[~conflict]  # conflicting groups keep their first row as written
    out: list[FloatArray] = []
    for v, lo in zip(columns, lows, strict=True):
        merged = v[starts]
        merged[merge_at] = lo[~conflict]
        out.append(merged)
    identical = ~conflict & ~partial
    complementary = ~conflict & partial
    if identical.any():
        warnings.append(
            f"{int((m_sizes[identical] - 1).sum())} repeated row(s) identical to the previous "
            "one (same timestamp): dropped"
        )
    if complementary.any():
        warnings.append(
            f"{int(complementary.sum())} timestamp(s) split over several rows with "
            "complementary cells: merged into one row each"
        )
    if conflict.any():
        warnings.append(
            f"{int(conflict.sum())} timestamp(s) repeated with conflicting values: "
            "the first row kept, the others dropped"
        )
    return time_us[starts], out


def union_time_base(
    groups: Sequence[tuple[IntArray, Sequence[FloatArray]]],
) -> tuple[IntArray, list[list[FloatArray]]]:
    """Put several (timestamps, columns) groups on the sorted union of their timestamps.

    Each group's timestamps must be free of repeats (use :func:`merge_repeated`). A column
    is NaN at every union time where its group has no sample. A group whose timestamps
    already are the union keeps its columns as they are (no copy).
    """
    if not groups:
        return np.empty(0, np.int64), []
    union = union_times([t for t, _ in groups])
    out: list[list[FloatArray]] = []
    for t, cols in groups:
        placed = list(cols)
        place_group(union, union_positions(union, t), placed)
        out.append(placed)
    return union, out


def union_times(stamps: Sequence[IntArray]) -> IntArray:
    """The sorted union of several groups' repeat-free timestamps.

    When every group is sorted this is a merge of sorted runs (no full sort), and when the
    other groups sample a subset of the longest one's times, that group's own array.
    """
    if not stamps:
        return np.empty(0, np.int64)
    if len(stamps) == 1 and _increasing(stamps[0]):
        return stamps[0]
    if not all(_increasing(t) for t in stamps):
        return np.unique(np.concatenate(stamps))  # clock jitter: sort it out the slow way
    biggest = max(stamps, key=lambda t: t.shape[0])
    if all(_subset(t, biggest) for t in stamps if t is not biggest):
        return biggest  # the other groups sample a subset of the fastest one's times
    # stable sort of concatenated sorted runs is a merge (timsort/radix), then drop repeats
    merged = np.sort(np.concatenate(stamps), kind="stable")
    keep = np.empty(merged.shape[0], bool)
    keep[:1] = True
    np.not_equal(merged[1:], merged[:-1], out=keep[1:])
    return merged[keep]


def union_positions(union: IntArray, time_us: IntArray) -> IntArray | None:
    """Where a group's samples (repeat-free ``time_us``) go on ``union`` (from
    :func:`union_times`); None when the group's timestamps are the union itself."""
    if time_us is union or (time_us.shape[0] == union.shape[0] and _increasing(time_us)):
        return None  # a sorted, repeat-free subset of the same length: the union itself
    return np.searchsorted(union, time_us)


def on_union(union: IntArray, positions: IntArray | None, values: FloatArray) -> FloatArray:
    """One column placed on ``union`` at ``positions`` (:func:`union_positions`): NaN where
    its group has no sample; ``values`` itself (no copy, no NaN fill) when ``positions`` is None."""
    if positions is None:
        return values
    full = np.full(union.shape[0], np.nan)
    full[positions] = values
    return full


#: timestamps of a group looked up first, before all of them, when testing for a subset
_SUBSET_PROBE = 64


def place_group(union: IntArray, positions: IntArray | None, columns: list[FloatArray]) -> None:
    """Put every column of one group on ``union`` at ``positions``, replacing the list's entries
    one by one (so a caller holding no other reference frees each source column once placed).

    The placed columns are rows of one NaN-filled block: one allocation per group instead of
    one per column (a large block is backed by huge pages, so it is filled several times faster).
    """
    if positions is None or not columns:
        return
    block = np.full((len(columns), union.shape[0]), np.nan)
    for i, values in enumerate(columns):
        block[i, positions] = values
        columns[i] = block[i]


def _subset(t: IntArray, of: IntArray) -> bool:
    if t.shape[0] > _SUBSET_PROBE:  # most groups that are not a subset show it on a few samples
        probe = t[:: t.shape[0] // _SUBSET_PROBE]
        at = np.minimum(np.searchsorted(of, probe), of.shape[0] - 1)
        if not bool((of[at] == probe).all()):
            return False
    at = np.searchsorted(of, t)
    return bool((at < of.shape[0]).all()) and bool((of[np.minimum(at, of.shape[0] - 1)] == t).all())


def _increasing(t: IntArray) -> bool:
    return t.shape[0] < 2 or bool((t[1:] > t[:-1]).all())


def relative_seconds(time_us: IntArray) -> FloatArray:
    """Seconds since the first sample (``time[0] == 0``)."""
    if time_us.shape[0] == 0:
        return np.empty(0, np.float64)
    return np.asarray((time_us - time_us[0]) / 1e6, np.float64)
