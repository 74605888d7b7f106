"""Validity proposals on hand-made lap lists: robust with few laps, each with its reason."""

from __future__ import annotations

from desktop_app.laps import MeasuredLap, propose_validity
from desktop_app.laps.distance import Dropout
from storage.types import LapKind, LapRecord


def lap(n: int, t: float | None, kind: LapKind = "flying", dist: float | None = 2000.0) -> MeasuredLap:
    return MeasuredLap(LapRecord(n, kind, 100.0 * n, t, dist, 100, None, None, [], True, "", complete=kind == "flying"))


def judge(laps: list[MeasuredLap]) -> dict[int, tuple[bool, str]]:
    propose_validity(laps)
    return {m.record.lap_number: (m.record.proposed_valid, m.record.reason) for m in laps}


def test_clean_laps_are_valid_and_say_nothing() -> None:
    got = judge([lap(1, 90.0), lap(2, 90.4), lap(3, 89.8), lap(4, 91.0)])
    assert got == {n: (True, "") for n in (1, 2, 3, 4)}


def test_slow_lap_over_107_percent_of_the_best() -> None:
    got = judge([lap(1, 90.0), lap(2, 97.0), lap(3, 90.5)])
    assert got[2][0] is False and "107.8 % of the best 1:30.000" in got[2][1]
    assert got[1] == (True, "") and got[3] == (True, "")


def test_two_laps_are_enough_for_the_107_rule() -> None:
    got = judge([lap(1, 60.0), lap(2, 65.0)])
    assert got[1] == (True, "") and got[2][0] is False


def test_mad_catches_a_lap_slow_for_this_field_but_under_107() -> None:
    times = [60.0, 60.1, 59.9, 60.05, 59.95, 60.0, 63.5]
    got = judge([lap(i, t) for i, t in enumerate(times, 1)])
    assert got[7][0] is False and "far off the median" in got[7][1]
    assert all(got[i] == (True, "") for i in range(1, 7))


def test_identical_laps_do_not_make_small_differences_outliers() -> None:
    # MAD is 0 here: the 1 % floor keeps a 0.3 s slower lap valid
    got = judge([lap(1, 60.0), lap(2, 60.0), lap(3, 60.0), lap(4, 60.3)])
    assert all(v == (True, "") for v in got.values())


def test_an_extra_crossing_makes_a_short_lap_that_does_not_become_the_best() -> None:
    got = judge([lap(1, 60.0), lap(2, 20.0, dist=700.0), lap(3, 61.0), lap(4, 60.5)])
    assert got[2][0] is False and "of the median" in got[2][1] and "extra line crossing" in got[2][1]
    assert "distance 700 m" in got[2][1]
    # the 107 % reference is the best real lap (60.0), so the others stay valid
    assert got[1] == got[3] == got[4] == (True, "")


def test_distance_far_from_the_median() -> None:
    got = judge([lap(1, 60.0), lap(2, 60.2, dist=2500.0), lap(3, 60.1)])
    assert got[2] == (False, "distance 2500 m is 125 % of the median 2000 m")


def test_non_flying_laps_say_what_they_are() -> None:
    laps = [lap(0, None, "out"), lap(1, 60.0), lap(2, None, "in"), lap(3, None, "partial")]
    pit = lap(4, 120.0, "pit")
    pit.standing_s = 32.4
    got = judge(laps + [pit])
    assert got[0] == (False, "out-lap (before the first timing line)")
    assert got[2] == (False, "in-lap (not completed)")
    assert got[3][0] is False and got[3][1].startswith("partial lap")
    assert got[4] == (False, "stopped for 32 s (pit stop)")
    assert got[1] == (True, "")  # the pit lap is not a flying lap: it sets no reference


def test_dropout_reason_and_several_reasons_joined() -> None:
    m = lap(2, 70.0)
    m.dropouts = [Dropout(230.0, 232.5)]
    got = judge([lap(1, 60.0), m, lap(3, 60.2)])
    valid, reason = got[2]
    assert not valid
    assert "GPS dropout of 2.5 s at 30.0 s into the lap" in reason
    assert "; " in reason and "107 %" in reason


def test_user_decision_is_kept_apart() -> None:
    laps = [lap(1, 60.0), lap(2, 80.0)]
    laps[1].record.user_valid = True
    laps[0].record.user_valid = False
    propose_validity(laps)
    assert laps[1].record.proposed_valid is False and laps[1].record.valid is True
    assert laps[0].record.proposed_valid is True and laps[0].record.valid is False
    assert laps[1].record.user_valid is True
