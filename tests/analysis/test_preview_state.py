"""The preview's state without Qt, on laps of real files: each user action as a method call.

The same behaviours are checked on the widget in tests/gui/test_preview*.py; here they are
decided, so a command or a test can use them with no window (the last test proves that no
Qt module is imported).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from reallaps import aim_session, motec_session, session
from textstates import STATES, windarab_with_states

from desktop_app.analysis.lap_selection import ComparedLap, LapSelection
from desktop_app.analysis.preview_state import FIRST_LOOK, PreviewState, has_value, merge_labels, recode
from desktop_app.importing import import_file
from storage.types import LapTelemetry

WINDARAB = "bosch_windarab_txt/sim_data.txt"  # rpm only, no distance


def test_ticks_are_kept_per_channel_and_a_new_file_fills_in_the_rest() -> None:
    aim, motec = aim_session(), motec_session()
    state = PreviewState()
    state.show([aim.laps[3]], None, aim.units)
    assert state.channels_to_plot() == ["speed", "rpm", "glat", "glong"]
    state.tick("rpm", False)
    assert state.channels_to_plot() == ["speed", "glat", "glong"]
    state.show(motec.laps[1:2], None, motec.units)
    # the next file keeps rpm unticked and fills in its own standard channels
    assert state.channels_to_plot() == ["speed", "throttle", "brake", "gear", "steering", "glat", "glong"]
    assert "rpm" in state.available
    state.tick("rpm", True)
    assert "rpm" in state.channels_to_plot()


def test_a_file_without_distance_is_drawn_against_time() -> None:
    real = session(WINDARAB)
    [lap] = real.laps
    state = PreviewState()
    state.show([lap], lap, real.units)
    assert state.x_axis() == "time"
    assert state.channels_to_plot() == ["rpm"]
    np.testing.assert_array_equal(state.x_values(0), lap.channels["time"])
    aim = aim_session()
    state.show([aim.laps[3]], None, aim.units)
    assert state.x_axis() == "distance"
    x = state.x_values(0)
    assert bool(np.all(np.diff(x[np.isfinite(x)]) >= 0))  # GPS distance never steps back on the axis
    state.set_x_axis("time")
    assert state.x_axis() == "time"
    with pytest.raises(ValueError, match="unknown x axis 'lap'"):
        state.set_x_axis("lap")


def test_a_file_without_standard_channels_shows_its_first_four() -> None:
    lap = aim_session().laps[3]
    aux = LapTelemetry(
        lap.lap_number,
        lap.start_offset,
        {k: v for k, v in lap.channels.items() if k in ("time", "distance") or k.startswith("GPS")},
    )
    state = PreviewState()
    state.show([aux], None, {})
    assert state.channels_to_plot() == ["GPS Nsat", "GPS Slope", "GPS Heading", "GPS Gyro"]
    state.tick("GPS Slope", False)  # the user's choice, not the first four any more
    assert state.channels_to_plot() == []


def test_the_reference_is_drawn_first_when_not_selected_and_none_means_no_delta() -> None:
    aim = aim_session()
    state = PreviewState()
    state.show([aim.laps[3], aim.laps[7]], aim.laps[12], aim.units)
    assert [state.lap_label(i) for i in range(3)] == ["Lap 12 (ref)", "Lap 3", "Lap 7"]
    assert state.delta_title() == "Δt to lap 12 [s]"
    state.show([aim.laps[3], aim.laps[7]], None, aim.units)
    assert state.reference is None and state.delta_title() is None
    # the same lap given as another object (read again) is not drawn twice
    again = LapTelemetry(aim.laps[7].lap_number, aim.laps[7].start_offset, dict(aim.laps[7].channels))
    state.show([aim.laps[3], aim.laps[7]], again, aim.units)
    assert [state.lap_label(i) for i in range(2)] == ["Lap 3", "Lap 7 (ref)"]


def test_unticking_the_reference_moves_the_delta_or_clears_it() -> None:
    aim = aim_session()
    telemetry = {lap.lap_number: lap for lap in aim.laps}
    selection, state = LapSelection(), PreviewState()
    selection.select([3, 7, 12], best=12)
    assert selection.wanted() == [3, 7, 12]
    shown = selection.resolve(telemetry)
    state.show(shown.laps, shown.reference, aim.units, shown.names)
    assert state.delta_title() == "Δt to lap 12 [s]" and shown.own == [3, 7, 12]
    # the user unticks lap 12's validity: the best valid lap is now lap 7, the overlay stays
    selection.select([3, 7, 12], best=7)
    shown = selection.resolve(telemetry)
    state.show(shown.laps, shown.reference, aim.units, shown.names)
    assert state.delta_title() == "Δt to lap 7 [s]" and len(state.laps) == 3
    # no valid lap left: no reference, no delta trace
    selection.select([3, 7, 12], best=None)
    shown = selection.resolve(telemetry)
    state.show(shown.laps, shown.reference, aim.units, shown.names)
    assert state.delta_title() is None and len(state.laps) == 3
    # a reference outside the selection is read too
    selection.select([3], best=12)
    assert selection.wanted() == [3, 12]


def test_a_lap_of_another_session_joins_or_becomes_the_reference() -> None:
    aim, motec = aim_session(), motec_session()
    telemetry = {lap.lap_number: lap for lap in aim.laps}
    selection, state = LapSelection(), PreviewState()
    selection.select([3], best=12)
    selection.compare(ComparedLap(motec.laps[1], "S7 lap 2"))
    shown = selection.resolve(telemetry)
    state.show(shown.laps, shown.reference, aim.units, shown.names)
    assert [state.lap_label(i) for i in range(3)] == ["Lap 12 (ref)", "Lap 3", "S7 lap 2"]
    assert shown.own == [3]
    selection.compare(ComparedLap(motec.laps[1], "S7 lap 2"), as_reference=True)
    assert selection.wanted() == [3]  # this session's best is not needed any more
    shown = selection.resolve(telemetry)
    state.show(shown.laps, shown.reference, aim.units, shown.names)
    assert state.delta_title() == "Δt to S7 lap 2 [s]"
    assert [state.lap_name(i) for i in range(len(state.laps))] == ["Lap 3", "S7 lap 2"]
    selection.clear_compared()
    shown = selection.resolve(telemetry)
    state.show(shown.laps, shown.reference, aim.units, shown.names)
    assert [state.lap_label(i) for i in range(2)] == ["Lap 12 (ref)", "Lap 3"]


def test_a_lap_keeps_its_colour_and_the_zoom_is_kept_until_a_new_session() -> None:
    aim = aim_session()
    ref = aim.laps[12]
    state = PreviewState()
    state.show([ref, aim.laps[3], aim.laps[7]], ref, aim.units)
    slots = {state.lap_name(i): state.colour_slot(i) for i in range(3)}
    assert sorted(slots.values()) == [0, 1, 2]
    x_max = float(np.nanmax(state.x_values(0)))
    assert state.drawn(x_max) is None  # the whole lap
    state.show([ref, aim.laps[7]], ref, aim.units)
    assert {state.lap_name(i): state.colour_slot(i) for i in range(2)} == {
        "Lap 12": slots["Lap 12"],
        "Lap 7": slots["Lap 7"],
    }
    state.note_view((200.0, 400.0))  # the user zoomed in
    assert state.drawn(x_max) == (200.0, 400.0)
    state.note_view((0.0, x_max))  # and out again
    assert state.drawn(x_max) is None
    state.note_view((200.0, 400.0))
    state.new_session()
    state.show([aim.laps[5]], aim.laps[5], aim.units)
    assert state.colour_slot(0) == 0
    assert state.drawn(float(np.nanmax(state.x_values(0)))) is None


def test_graph_layout_shared_graphs_order_and_remembered_state() -> None:
    motec = motec_session()
    state = PreviewState()
    state.show(motec.laps[1:2], None, motec.units)
    state.plot_with("brake", "throttle")
    graphs = {g.key: g.channels for g in state.graphs()}
    assert graphs["throttle"] == ("throttle", "brake") and "brake" not in graphs
    state.move_graph("gear", 0)
    assert [g.key for g in state.graphs()][:2] == ["gear", "speed"]
    saved = state.layout_state()
    other = PreviewState()
    other.restore_layout_state({**saved, "math": [{"name": "bad", "expression": "__import__('os')"}]})
    other.show(motec.laps[1:2], None, motec.units)
    assert other.graphs() == state.graphs()
    assert other.math == []  # an expression that does not parse is dropped
    state.plot_with("brake", None)
    assert "brake" in {g.key for g in state.graphs()}


def test_a_math_channel_is_computed_on_a_copy_and_ticked() -> None:
    aim = aim_session()
    lap = aim.laps[3]
    state = PreviewState()
    state.show([lap], lap, aim.units)
    state.add_math_channel("speed_ms = speed / 3.6")
    assert "speed_ms" in state.channels_to_plot() and "speed_ms" not in lap.channels
    np.testing.assert_allclose(state.laps[0].lap.channels["speed_ms"], lap.channels["speed"] / 3.6)


def test_codes_are_mapped_by_label() -> None:
    own = ("running", "timeout", "waitCam")
    other = ("waitCam", "running", "idle")
    merged = merge_labels([own, other])
    assert merged == ("running", "timeout", "waitCam", "idle")
    codes = np.array([0.0, 1.0, 2.0, np.nan, 1.5, 7.0])
    # waitCam 0 -> 2, running 1 -> 0, idle 2 -> 3; NaN and values that are no code stay
    np.testing.assert_array_equal(recode(codes, other, merged), [2.0, 0.0, 3.0, np.nan, 1.5, 7.0])
    assert codes[0] == 0.0  # the input is not changed


def test_a_compared_laps_text_channel_reads_as_its_own_labels(tmp_path: Path) -> None:
    mine = import_file(windarab_with_states(tmp_path)).draft.telemetry
    order = (STATES[2], STATES[0], "idle")  # the same texts under other codes, and a new one
    theirs = import_file(windarab_with_states(tmp_path, order, "other.txt")).draft.telemetry
    assert mine.labels["cam_state"] == STATES and theirs.labels["cam_state"] == order
    [lap], [other] = mine.laps, theirs.laps
    selection, state = LapSelection(), PreviewState()
    selection.select([lap.lap_number], best=lap.lap_number)
    selection.compare(ComparedLap(other, "S2 lap 1", theirs.labels))
    given = selection.resolve({lap.lap_number: lap})
    state.show(given.laps, given.reference, mine.units, given.names, mine.labels, given.lap_labels)
    table = state.labels["cam_state"]
    assert table == (*STATES, "idle")
    shown = state.laps[1].lap.channels["cam_state"]
    raw = other.channels["cam_state"]
    for j in (0, 1500, 2500):  # a sample in each of its states' first runs
        assert table[int(shown[j])] == order[int(raw[j])]
    # this session's own lap keeps its codes; the graph of the text channel ticks the labels
    np.testing.assert_array_equal(state.laps[0].lap.channels["cam_state"], lap.channels["cam_state"])
    state.tick("cam_state", True)
    graph = next(g for g in state.graphs() if g.key == "cam_state")
    assert graph.ticks == table
    # the same lap as the reference of the delta: drawn first, its codes mapped the same way
    selection.clear_compared()
    selection.compare(ComparedLap(other, "S2 lap 1", theirs.labels), as_reference=True)
    given = selection.resolve({lap.lap_number: lap})
    state.show(given.laps, given.reference, mine.units, given.names, mine.labels, given.lap_labels)
    assert state.lap_label(0) == "S2 lap 1 (ref)" and state.delta_title() == "Δt to S2 lap 1 [s]"
    np.testing.assert_array_equal(state.laps[0].lap.channels["cam_state"], shown)
    # in a graph shared with a numeric channel the codes are numbers again
    state.plot_with("rpm", "cam_state")
    assert next(g for g in state.graphs() if g.key == "cam_state").ticks is None


def test_the_state_runs_without_qt(tmp_path: Path) -> None:
    """A command can use the state: in a fresh interpreter, on a real file, no Qt imported."""
    script = (
        "import sys\n"
        "from desktop_app.importing import import_file\n"
        "from desktop_app.analysis.preview_state import PreviewState\n"
        "from realfiles import logger_file\n"
        f"draft = import_file(logger_file({WINDARAB!r})).draft\n"
        "state = PreviewState()\n"
        "state.show(draft.telemetry.laps, None, draft.telemetry.units)\n"
        "print(state.x_axis(), ','.join(state.channels_to_plot()))\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt'))\n"
        "print(qt)\n"
    )
    tests = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=_env(tests), check=True
    )
    assert done.stdout.splitlines() == ["time rpm", "[]"], done.stderr


def _env(tests: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tests), env.get("PYTHONPATH", "")])
    return env


def test_a_channel_with_one_value_far_down_is_available_and_an_empty_one_is_not() -> None:
    n = 50 * FIRST_LOOK
    late = np.full(n, np.nan)
    late[n - 3] = 4.0  # a sensor that came alive late in the session
    assert has_value(late)
    assert not has_value(np.full(n, np.nan))
    assert not has_value(np.full(3, np.inf))
    assert has_value(np.array([np.nan, -1.0]))
    assert not has_value(np.empty(0))
    lap = LapTelemetry(1, 0.0, {"time": np.arange(n, dtype=np.float64), "late": late, "dead": np.full(n, np.nan)})
    state = PreviewState()
    state.show([lap], lap, {})
    assert "late" in state.available and "dead" not in state.available
