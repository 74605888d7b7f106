"""Shared time-base repairs (desktop_app/loggers/timebase.py)."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.loggers import LoggerFileError
from desktop_app.loggers.timebase import (
    check_backward_steps,
    checked_microseconds,
    merge_repeated,
    relative_seconds,
    to_microseconds,
    union_time_base,
    unroll_midnight,
)

NAN = np.nan


def test_midnight_rollover_adds_a_day_from_the_drop_on() -> None:
    warnings: list[str] = []
    t = unroll_midnight(np.array([86399.8, 86399.9, 0.0, 0.1]), warnings, lambda r: r + 100)
    np.testing.assert_allclose(t, [86399.8, 86399.9, 86400.0, 86400.1])
    assert len(warnings) == 1 and "line 102" in warnings[0] and "midnight" in warnings[0]


def test_small_drop_is_not_a_rollover() -> None:
    warnings: list[str] = []
    t = unroll_midnight(np.array([10.0, 9.9, 10.1]), warnings)
    np.testing.assert_array_equal(t, [10.0, 9.9, 10.1])
    assert warnings == []


def test_jitter_is_kept_in_order_and_reported() -> None:
    warnings: list[str] = []
    t = to_microseconds(np.array([0.0, 0.2, 0.19, 0.3]))
    check_backward_steps(t, "f.vbo", warnings, lambda r: r + 50)
    assert len(warnings) == 1 and "line 52" in warnings[0] and "0.010" in warnings[0]


def test_large_backward_step_is_an_error_with_the_line() -> None:
    with pytest.raises(LoggerFileError) as info:
        check_backward_steps(to_microseconds(np.array([0.0, 50.0, 10.0])), "f.vbo", [], lambda r: r + 7)
    assert info.value.line == 9 and "50.000 s to 10.000 s" in str(info.value)


def test_repeated_rows_identical_complementary_and_conflicting() -> None:
    t = to_microseconds(np.array([0.0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4]))
    a = np.array([1.0, 2.0, 2.0, 3.0, NAN, 4.0, 5.0, 6.0])
    b = np.array([1.0, 2.0, 2.0, NAN, 7.0, 8.0, 8.0, 9.0])
    warnings: list[str] = []
    tt, (ma, mb) = merge_repeated(t, [a, b], warnings)
    np.testing.assert_array_equal(tt, to_microseconds(np.array([0.0, 0.1, 0.2, 0.3, 0.4])))
    np.testing.assert_array_equal(ma, [1.0, 2.0, 3.0, 4.0, 6.0])
    np.testing.assert_array_equal(mb, [1.0, 2.0, 7.0, 8.0, 9.0])
    text = " | ".join(warnings)
    assert "1 repeated row(s) identical" in text
    assert "1 timestamp(s) split over several rows" in text
    assert "1 timestamp(s) repeated with conflicting values" in text


def test_no_repeats_is_a_no_op() -> None:
    warnings: list[str] = []
    t = to_microseconds(np.array([0.0, 0.1]))
    tt, cols = merge_repeated(t, [np.array([1.0, 2.0])], warnings)
    assert tt is t and warnings == [] and cols[0][1] == 2.0


def test_union_time_base_leaves_nan_where_a_group_has_no_sample() -> None:
    fast = (to_microseconds(np.array([0.0, 0.01, 0.02])), [np.array([1.0, 2.0, 3.0])])
    slow = (to_microseconds(np.array([0.0, 0.015])), [np.array([10.0, 20.0])])
    union, (fast_cols, slow_cols) = union_time_base([fast, slow])
    np.testing.assert_allclose(relative_seconds(union), [0.0, 0.01, 0.015, 0.02])
    np.testing.assert_array_equal(fast_cols[0], [1.0, 2.0, NAN, 3.0])
    np.testing.assert_array_equal(slow_cols[0], [10.0, NAN, 20.0, NAN])


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e300])
def test_unusable_timestamps_are_rejected_with_their_line(bad: float) -> None:
    with pytest.raises(LoggerFileError) as info:
        checked_microseconds(np.array([0.0, 0.1, bad]), "f.txt", lambda r: r + 10, "xtime")
    assert info.value.line == 12 and info.value.field_name == "xtime"
    np.testing.assert_array_equal(checked_microseconds(np.array([0.0, 0.5]), "f.txt"), [0, 500_000])


def _merge_by_rows(t: np.ndarray, columns: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray], int, int, int]:
    """Row-by-row statement of the merge rules, to check the vectorised merge against."""
    out_t: list[int] = []
    out: list[list[float]] = [[] for _ in columns]
    identical = complementary = conflicting = 0
    i = 0
    while i < t.shape[0]:
        j = i
        while j + 1 < t.shape[0] and t[j + 1] == t[i]:
            j += 1
        cells = [c[i : j + 1] for c in columns]
        clash = any(np.unique(c[~np.isnan(c)]).shape[0] > 1 for c in cells)
        gaps = any(0 < np.isnan(c).sum() < c.shape[0] for c in cells)
        out_t.append(int(t[i]))
        for k, c in enumerate(cells):
            present = c[~np.isnan(c)]
            out[k].append(float(c[0]) if clash else float(present.min()) if present.shape[0] else np.nan)
        if j > i:
            if clash:
                conflicting += 1
            elif gaps:
                complementary += 1
            else:
                identical += j - i
        i = j + 1
    return np.array(out_t), [np.array(o) for o in out], identical, complementary, conflicting


@pytest.mark.parametrize("seed", range(5))
def test_merge_of_repeated_rows_matches_the_row_by_row_rules(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    t = np.cumsum(rng.random(n) < 0.7).astype(np.int64)  # ~30 % of rows repeat a timestamp
    columns = []
    for _ in range(3):
        c = np.round(rng.random(n) * 3)  # few distinct values: identical repeats happen
        c[rng.random(n) < 0.3] = np.nan
        columns.append(c)
    warnings: list[str] = []
    tt, merged = merge_repeated(t, columns, warnings)
    rt, ref, identical, complementary, conflicting = _merge_by_rows(t, columns)
    np.testing.assert_array_equal(tt, rt)
    for got, want in zip(merged, ref, strict=True):
        np.testing.assert_array_equal(got, want)
    assert any(f"{identical} repeated row(s)" in w for w in warnings) == (identical > 0)
    assert any(f"{complementary} timestamp(s) split" in w for w in warnings) == (complementary > 0)
    assert any(f"{conflicting} timestamp(s) repeated with conflicting" in w for w in warnings) == (conflicting > 0)


def test_union_keeps_a_group_that_already_is_the_union_and_merges_sorted_groups() -> None:
    fast = np.arange(0, 1_000_000, 10_000, dtype=np.int64)  # 100 Hz
    slow = fast[::10].copy()  # 10 Hz, on the fast group's times
    odd = np.array([5_000, 15_000, 2_000_000], np.int64)  # times of its own
    v_fast, v_slow, v_odd = np.arange(100.0), np.arange(10.0), np.array([1.0, 2.0, 3.0])
    union, placed = union_time_base([(fast, [v_fast]), (slow, [v_slow])])
    assert union is fast and placed[0][0] is v_fast  # no copy, no NaN column
    np.testing.assert_array_equal(placed[1][0][::10], v_slow)
    assert np.isnan(placed[1][0][1:10]).all()
    union, placed = union_time_base([(fast, [v_fast]), (odd, [v_odd])])
    np.testing.assert_array_equal(union, np.unique(np.concatenate([fast, odd])))
    assert placed[1][0][1] == 1.0 and placed[1][0][-1] == 3.0 and np.isnan(placed[0][0][-1])
    jitter = np.array([0, 20_000, 10_000], np.int64)  # a step back: sorted the slow way
    union, placed = union_time_base([(jitter, [np.array([1.0, 3.0, 2.0])])])
    np.testing.assert_array_equal(union, [0, 10_000, 20_000])
    np.testing.assert_array_equal(placed[0][0], [1.0, 2.0, 3.0])
