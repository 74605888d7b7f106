"""Laps of a MoTeC ``.ld`` from its own lap channels, when no ``.ldx`` lies beside it.

The logger's ``Lap Time`` values (the time of each lap just completed) are the lap times;
the crossing instants that place those laps on the time axis come from the most precise
channel there is (docs/formats.md#motec-ld-lap-channels):

1. the ``Beacon`` channel: each beacon pass is a short run of coded samples that carries
   the pass time to the millisecond;
2. a ``Running Lap Time``: at its first sample after a reset, the crossing was ``value``
   seconds earlier (to its 0.01 s resolution);
3. else the lap counter's or lap time's change instants, which lag the crossing by up to
   a few seconds at 1 Hz: the chain of logged lap times is placed as late as those
   instants allow, and a note says it is only good to about a second.

Each run of laps with logged lap times becomes a chain of boundaries spaced by exactly
those times, shifted to sit on the precise crossings (least squares). A chain that does
not fit them within :data:`FIT_TOLERANCE_S` keeps the precise crossings, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from storage.types import FloatArray

#: a chain of logged lap times must sit on the measured crossings within this
FIT_TOLERANCE_S = 0.1
#: the logger updates Lap Time (and the counter) within this long after the crossing
UPDATE_WINDOW_S = 5.0
#: a logged lap time is this lap's if it is this close to the measured interval
MATCH_S = 0.25
#: beacon payload: bit 14 set, low 14 bits the pass time in ms (signed) after (first sample - 1 s)
_PAYLOAD = 1 << 14
#: beacon codes tried as the lap line, most frequent first
_MAX_CODES = 16


@dataclass
class LapChannel:
    """A channel at its own rate: sample times (s) and values."""

    name: str
    time: FloatArray
    values: FloatArray


@dataclass
class LapTiming:
    #: lap boundaries (s); None when the file has no lap channel at all
    beacons: list[float] | None
    #: leave the laps to the logged lap counter (no instant more precise than it)
    use_counter: bool = False
    notes: list[str] = field(default_factory=list)
    #: what the boundaries and lap times came from, for the recording's metadata
    summary: str = ""
    logged_lap_times: list[float] = field(default_factory=list)


def beacon_passes(ch: LapChannel) -> tuple[FloatArray, FloatArray]:
    """(times, beacon codes) of every complete pass coded in a ``Beacon`` channel."""
    # a float-typed or damaged channel may hold NaN or huge values: no pass is coded in those
    finite = np.where(np.isfinite(ch.values), ch.values, 0.0)
    v = np.rint(np.clip(finite, -(2.0**31), 2.0**31)).astype(np.int64)
    neg = v < 0
    starts = np.flatnonzero(neg & ~np.concatenate(([False], neg[:-1])))
    code_at = np.flatnonzero((v >= 0) & (v < _PAYLOAD))
    payload_at = np.flatnonzero(v >= _PAYLOAD)
    k = np.searchsorted(code_at, starts, side="right")
    ok = k < code_at.shape[0]
    starts, codes = starts[ok], code_at[k[ok]]
    j = np.searchsorted(payload_at, codes) - 1
    ok = j >= 0
    starts, codes, j = starts[ok], codes[ok], j[ok]
    payload = payload_at[j]
    ok = payload > starts
    starts, codes, payload = starts[ok], codes[ok], payload[ok]
    ms = v[payload] & (_PAYLOAD - 1)
    ms = np.where(ms >= _PAYLOAD // 2, ms - _PAYLOAD, ms)
    return ch.time[starts] - 1.0 + ms / 1000.0, v[codes].astype(np.float64)


def running_crossings(ch: LapChannel) -> FloatArray:
    """Crossings from a running lap time: ``time - value`` at the first sample of each lap."""
    v = ch.values
    prev = np.concatenate(([np.nan], v[:-1]))
    with np.errstate(invalid="ignore"):
        first = (v > 0) & ((prev == 0) | (v < prev))
    first[0] = False  # a log that starts mid-lap: that crossing is before the log
    idx = np.flatnonzero(first)
    return np.asarray(ch.time[idx] - v[idx], np.float64)


def _changes(ch: LapChannel, *, up_only: bool) -> FloatArray:
    v = ch.values
    with np.errstate(invalid="ignore"):
        step = np.diff(v) > 0 if up_only else (np.diff(v) != 0) & (v[1:] > 0)
    return np.asarray(ch.time[np.flatnonzero(step) + 1], np.float64)


def _value_after(ch: LapChannel, t: float, until: float) -> float:
    """The channel's last value in ``(t, min(t + UPDATE_WINDOW_S, until))``, NaN if none."""
    lo = int(np.searchsorted(ch.time, t, side="right"))
    hi = int(np.searchsorted(ch.time, min(t + UPDATE_WINDOW_S, until), side="left"))
    return float(ch.values[hi - 1]) if hi > lo else float("nan")


def _match_code(times: FloatArray, codes: FloatArray, refs: FloatArray, lag: tuple[float, float]) -> float | None:
    """The beacon code whose passes best match the reference instants (ref - pass in ``lag``).

    A real log has a handful of codes (a lap line and split beacons): only the most frequent
    ones are tried, so a damaged channel with thousands of "codes" costs nothing.
    """
    values, counts = np.unique(codes, return_counts=True)
    best: tuple[int, float] | None = None
    for code in values[np.argsort(-counts, kind="stable")[:_MAX_CODES]]:
        mine = np.sort(times[codes == code])
        lo = np.searchsorted(mine, refs - lag[1], side="left")
        hi = np.searchsorted(mine, refs - lag[0], side="right")
        hits = int(np.count_nonzero(hi > lo))
        if hits and (best is None or hits > best[0]):
            best = (hits, float(code))
    return None if best is None else best[1]


def _chains(cross: FloatArray, laps: FloatArray, notes: list[str]) -> FloatArray:
    """Boundaries: each run of logged lap times as a chain fitted onto the crossings."""
    out = cross.copy()
    n = laps.shape[0]
    j = 0
    while j < n:
        if np.isnan(laps[j]):
            j += 1
            continue
        k = j
        while k < n and not np.isnan(laps[k]):
            k += 1
        cum = np.concatenate(([0.0], np.cumsum(laps[j:k])))
        shift = float(np.mean(cross[j : k + 1] - cum))
        placed = shift + cum
        worst = float(np.max(np.abs(placed - cross[j : k + 1])))
        if worst <= FIT_TOLERANCE_S:
            out[j : k + 1] = placed
        else:
            notes.append(
                f"laps {j + 1}-{k}: the logged lap times drift up to {worst:.3f} s from the measured "
                "crossings: lap boundaries at the crossings"
            )
        j = k
    return out


def lap_timing(
    end_s: float,
    *,
    beacon: LapChannel | None = None,
    running: LapChannel | None = None,
    lap_time: LapChannel | None = None,
    counter: LapChannel | None = None,
) -> LapTiming:
    """Lap boundaries from whichever lap channels the file has (see the module docstring)."""
    if beacon is None and running is None and lap_time is None and counter is None:
        return LapTiming(None)
    notes: list[str] = []
    completions = (
        _changes(counter, up_only=True)
        if counter is not None
        else _changes(lap_time, up_only=False)
        if lap_time is not None
        else np.empty(0)
    )
    run = running_crossings(running) if running is not None else np.empty(0)

    cross: FloatArray | None = None
    how = ""
    if beacon is not None:
        times, codes = beacon_passes(beacon)
        code: float | None = None
        if times.shape[0]:
            if run.shape[0]:
                code = _match_code(times, codes, run, (-0.5, 0.5))
            elif completions.shape[0]:
                code = _match_code(times, codes, completions, (0.0, UPDATE_WINDOW_S))
            elif np.unique(codes).shape[0] == 1:
                code = float(codes[0])
            else:
                notes.append(
                    f"{beacon.name!r} codes several beacons and no lap channel tells which one is the lap line: ignored"
                )
        if code is not None:
            cross = times[codes == code]
            how = f"{beacon.name!r} (beacon code {code:g})"
    if cross is None and run.shape[0]:
        cross = run
        how = f"{running.name!r} resets" if running is not None else ""

    if cross is not None:
        cross = np.unique(cross[(cross > 0) & (cross < end_s)])
        laps = np.full(max(cross.shape[0] - 1, 0), np.nan)
        if lap_time is not None:
            for j in range(laps.shape[0]):
                until = float(cross[j + 2]) if j + 2 < cross.shape[0] else end_s
                logged = _value_after(lap_time, float(cross[j + 1]), until)
                measured = float(cross[j + 1] - cross[j])
                if np.isfinite(logged) and abs(logged - measured) <= MATCH_S:
                    laps[j] = logged
                elif np.isfinite(logged):
                    notes.append(
                        f"lap {j + 1}: {lap_time.name!r} says {logged:.3f} s where the crossings are "
                        f"{measured:.3f} s apart: the crossings kept"
                    )
        bounds = _chains(cross, laps, notes) if laps.shape[0] else cross
        summary = f"crossings from {how}"
        if lap_time is not None and np.isfinite(laps).any():
            summary += f", lap times from {lap_time.name!r}"
        return LapTiming(_micro(bounds), notes=notes, summary=summary, logged_lap_times=_finite(laps))

    if lap_time is not None and completions.shape[0]:
        placed = _from_completions(lap_time, completions, end_s, notes)
        if placed is not None:
            laps = np.diff(placed)
            return LapTiming(
                _micro(placed[(placed > 0) & (placed < end_s)]),
                notes=notes,
                summary=f"lap times from {lap_time.name!r}, placed by their change instants (to about 1 s)",
                logged_lap_times=_finite(laps),
            )
    if counter is not None:
        notes.append(
            f"laps from the lap counter {counter.name!r} alone: boundaries only to its sample period, "
            "late by the logger's update delay"
        )
        return LapTiming([], use_counter=True, notes=notes, summary=f"lap counter {counter.name!r}")
    return LapTiming([], notes=notes)


def _from_completions(
    lap_time: LapChannel, completions: FloatArray, end_s: float, notes: list[str]
) -> FloatArray | None:
    """A chain of logged lap times ending before each completion instant, as late as possible."""
    values = np.array([_value_after(lap_time, float(c) - 1e-9, end_s) for c in completions])
    if not np.all(np.isfinite(values) & (values > 0)):
        return None
    # consecutive completions must be about one logged lap apart, else they are not one chain
    gaps = np.diff(completions)
    period = float(np.median(np.diff(lap_time.time))) if lap_time.time.shape[0] > 1 else 1.0
    if np.any(np.abs(gaps - values[1:]) > 2 * period + 1.0):
        notes.append(f"{lap_time.name!r} changes do not follow its own lap times: not used for laps")
        return None
    cum = np.cumsum(values)
    shift = float(np.min(completions - cum))
    notes.append(
        f"no beacon or running lap time channel: the logged lap times are placed by the instants "
        f"{lap_time.name!r} changes (good to about {period + 1:.0f} s)"
    )
    return np.concatenate(([shift], shift + cum))


def _finite(values: FloatArray) -> list[float]:
    return [float(x) for x in values if np.isfinite(x)]


def _micro(times: FloatArray) -> list[float]:
    """Boundaries to the microsecond (the resolution every time base here is compared in)."""
    return [round(float(t), 6) for t in times]
