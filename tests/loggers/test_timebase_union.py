"""The union time base built group by group: reuse of a group that is the union, merges."""

from __future__ import annotations

import numpy as np

from desktop_app.loggers.timebase import IntArray, on_union, union_positions, union_time_base, union_times


def _us(values: list[int] | np.ndarray) -> IntArray:
    return np.asarray(values, np.int64)


def test_a_group_whose_times_are_the_union_keeps_its_columns_without_a_copy() -> None:
    fast = _us(np.arange(0, 100_000, 10_000))
    slow = _us([0, 30_000, 60_000, 90_000])
    union = union_times([fast, slow])
    assert union is fast  # the slow group samples a subset of the fast one's times
    values = np.arange(10.0)
    assert union_positions(union, fast) is None
    assert on_union(union, None, values) is values
    at = union_positions(union, slow)
    assert at is not None and at.tolist() == [0, 3, 6, 9]
    placed = on_union(union, at, np.array([1.5, 2.5, 3.5, 4.5]))
    assert placed[[0, 3, 6, 9]].tolist() == [1.5, 2.5, 3.5, 4.5]
    assert np.isnan(np.delete(placed, [0, 3, 6, 9])).all()


def test_union_of_sorted_groups_is_their_merge() -> None:
    rng = np.random.default_rng(3)
    groups = [_us(np.sort(rng.choice(10_000_000, size, replace=False))) for size in (5000, 1200, 300)]
    union = union_times(groups)
    np.testing.assert_array_equal(union, np.unique(np.concatenate(groups)))
    for g in groups:
        at = union_positions(union, g)
        assert at is not None and np.array_equal(union[at], g)


def test_a_group_that_matches_the_longest_on_a_few_samples_only_is_not_taken_for_a_subset() -> None:
    longest = _us(np.arange(0, 1000) * 1000)
    other = longest[::2].copy()
    other[8] += 1  # one time between two of the longest group's, not among the probed ones
    union = union_times([longest, other])
    assert union.shape[0] == 1001 and 8 * 2000 + 1 in union
    np.testing.assert_array_equal(union, np.unique(np.concatenate([longest, other])))


def test_groups_with_clock_jitter_go_on_the_sorted_union() -> None:
    jitter = _us([0, 20, 10, 30])
    other = _us([5, 25])
    union, (cols_a, cols_b) = union_time_base([(jitter, [np.array([1.0, 2.0, 3.0, 4.0])]), (other, [np.ones(2)])])
    assert union.tolist() == [0, 5, 10, 20, 25, 30]
    np.testing.assert_array_equal(cols_a[0], [1.0, np.nan, 3.0, 2.0, np.nan, 4.0])
    np.testing.assert_array_equal(cols_b[0], [np.nan, 1.0, np.nan, np.nan, 1.0, np.nan])
