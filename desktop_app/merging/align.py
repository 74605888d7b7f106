"""Time alignment of two recordings of one run: offset, clock drift, confidence.

The model: a secondary sample logged at ``s`` seconds (its own recording time) happened at
``offset + (1 + drift) * s`` seconds of the primary's recording time.

The offset comes from the absolute UTC starts when both files have one, checked by
cross-correlating a channel both files log (logger clocks lie: when the two disagree by
more than :data:`CLOCK_TOLERANCE_S` the correlation wins, with a warning; it is searched
only within :data:`MAX_CLOCK_ERROR_S` of the clocks' offset, since a match further away is
more likely another lap of the same circuit), else from the correlation alone. The correlation runs on a common uniform grid: each channel is linearly
interpolated onto it *for the correlation only*, never for stored data. It is a normalised
cross-correlation over the overlap at every lag (six FFT correlations), so a lag with a
short overlap is not favoured by the overlap's length; the peak is refined to a fraction
of a grid step with a parabola through its neighbours.

Drift is estimated by correlating :data:`DRIFT_WINDOWS` windows of the secondary spread
over the overlap against the primary near the coarse offset and fitting a line through
their offsets; it is applied only where the data proves it (every window confidently
matched, the slope well determined, and large enough to move samples by more than half a
grid step over the overlap).

Limits: the correlation cannot tell "the same moment" from "another, very similar lap":
two stints of a consistent driver that do not overlap can correlate well at a lap-shifted
offset. With absolute times that case is refused (the clocks say the files do not
overlap, and the traces are only searched near the clocks' offset); without them, only
the preview's overlay (or the engineer) can tell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from desktop_app.loggers.recording import Recording
from storage.errors import LaptraceError
from storage.types import FloatArray

#: channels tried for the correlation, best first (standard names)
CORRELATION_CHANNELS: tuple[str, ...] = ("speed", "glong", "rpm")
#: absolute starts and correlation that disagree by more than this: the clocks lie
CLOCK_TOLERANCE_S = 0.5
#: with absolute starts, the correlation is searched only this far (s) from them: clocks
#: lie by seconds, but a trace matching much further away is more likely another lap of
#: the same circuit than a clock that wrong
MAX_CLOCK_ERROR_S = 120.0
#: below this normalised correlation peak the files are not aligned. Calibrated with
#: ``python -m bench merge --confidence`` (docs/formats.md#merging-same-run-or-not): split
#: real recordings match at 0.985 or more, unrelated real files reach 0.93 at most; this
#: sits between the two, about 0.03 from each
MIN_PEAK = 0.955
#: the shorter file's trace must span this long for the correlation alone to prove a match:
#: a shorter one fits somewhere in any long session (unrelated real files reach 0.99)
MIN_CORRELATION_S = 60.0
#: two files whose positions lie further apart than this (km) are of different places
MAX_PLACE_DISTANCE_KM = 5.0
#: two starts further apart than the longer file plus this are of different runs: one hour
#: between files that both state their zone (or both do not), 14 h (the widest time zone
#: difference) when one is UTC and the other local time
SAME_RUN_SLACK_S = 3600.0
SAME_RUN_ZONE_SLACK_S = 14 * 3600.0
#: how the user overrides a refusal they know better than
FORCE_HINT = "; if they are one run, give the offset (--merge-offset) to merge them anyway"
#: the peak must beat the best other peak (further than EXCLUDE_S away) by this much
MIN_MARGIN = 0.03
#: lags closer than this to the peak are its shoulders, not a second peak
EXCLUDE_S = 5.0
#: the files must share at least this much time (s), or half the shorter file if less
MIN_OVERLAP_S = 30.0
#: the correlation only considers lags where the files share at least this fraction of the
#: shorter one: a short overlap (a standing start matched against another) can correlate
#: almost perfectly by chance, and files of one run share most of their time
MIN_OVERLAP_FRACTION = 0.5
#: the correlation grid never has more points than this (long sessions get a coarser grid)
MAX_GRID_POINTS = 1 << 19
#: number of windows for the drift fit, and how far (s) each may move from the coarse offset
DRIFT_WINDOWS = 5
DRIFT_SEARCH_S = 2.0
#: drift beyond this (ppm) is not a clock: refuse to correct it
MAX_DRIFT_PPM = 5000.0

IntArray = npt.NDArray[np.int64]


class AlignmentError(LaptraceError, ValueError):
    """The two recordings cannot be aligned; the message says why."""


@dataclass
class Alignment:
    """How the secondary's time maps onto the primary's (see the module docstring)."""

    offset_s: float
    drift_ppm: float
    confidence: float  #: normalised correlation peak height (0..1); 1.0 for a given offset
    margin: float  #: the peak's lead over the best other peak
    method: str  #: "absolute", "absolute+correlation", "correlation", "manual"
    channel: str | None  #: the channel correlated, if any
    correlation_offset_s: float | None = None
    absolute_offset_s: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def scale(self) -> float:
        return 1.0 + self.drift_ppm * 1e-6

    def to_primary(self, secondary_time: FloatArray) -> FloatArray:
        """Secondary recording times on the primary's time base."""
        return np.asarray(self.offset_s + self.scale * np.asarray(secondary_time, np.float64), np.float64)


@dataclass
class _Peak:
    offset_s: float
    value: float
    margin: float


def _series(rec: Recording, name: str) -> tuple[FloatArray, FloatArray] | None:
    """The finite samples of a standard channel: (times, values), or None if too few."""
    values = rec.standard(name)
    if values is None:
        return None
    ok = np.isfinite(values) & np.isfinite(rec.time)
    if int(ok.sum()) < 10 or float(np.nanstd(values[ok])) == 0.0:
        return None
    return rec.time[ok], values[ok]


def _period(t: FloatArray) -> float:
    d = np.diff(t)
    d = d[d > 0]
    return float(np.median(d)) if d.shape[0] else 1.0


def common_channel(primary: Recording, secondary: Recording) -> str | None:
    """The first of :data:`CORRELATION_CHANNELS` both recordings log usably."""
    for name in CORRELATION_CHANNELS:
        if _series(primary, name) is not None and _series(secondary, name) is not None:
            return name
    return None


def _on_grid(t: FloatArray, v: FloatArray, dt: float, t0: float, count: int) -> FloatArray:
    """``v`` linearly interpolated at ``t0 + k*dt`` (for the correlation only)."""
    order = np.argsort(t, kind="stable")
    grid = t0 + dt * np.arange(count, dtype=np.float64)
    return np.asarray(np.interp(grid, t[order], v[order]), np.float64)


def _xcorr(a: FloatArray, b: FloatArray, size: int) -> FloatArray:
    """``c[k] = sum_i a[i] * b[i - k]`` for every lag k (negative lags wrap to the end)."""
    fa = np.fft.rfft(a, size)
    fb = np.fft.rfft(b, size)
    return np.asarray(np.fft.irfft(fa * np.conj(fb), size), np.float64)


def normalised_xcorr(p: FloatArray, s: FloatArray, min_overlap: int) -> tuple[IntArray, FloatArray]:
    """Pearson correlation of ``p[i]`` with ``s[i - k]`` over their overlap, for every lag k.

    Returns (lags, ncc); lags whose overlap is shorter than ``min_overlap`` get -inf.
    """
    n_p, n_s = p.shape[0], s.shape[0]
    size = 1 << int(np.ceil(np.log2(n_p + n_s)))
    mp = np.ones(n_p)
    ms = np.ones(s.shape[0])
    n = np.rint(_xcorr(mp, ms, size))
    sum_p = _xcorr(p, ms, size)
    sum_s = _xcorr(mp, s, size)
    sum_pp = _xcorr(p * p, ms, size)
    sum_ss = _xcorr(mp, s * s, size)
    sum_ps = _xcorr(p, s, size)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sum_ps - sum_p * sum_s / n
        var_p = sum_pp - sum_p * sum_p / n
        var_s = sum_ss - sum_s * sum_s / n
        ncc = cov / np.sqrt(var_p * var_s)
    lags = np.arange(size, dtype=np.int64)
    lags[lags >= n_p] -= size  # wrapped negative lags
    valid = (n >= max(min_overlap, 3)) & (lags > -n_s) & (lags < n_p) & np.isfinite(ncc)
    valid &= (var_p > 1e-12 * np.maximum(n, 1)) & (var_s > 1e-12 * np.maximum(n, 1))
    ncc = np.where(valid, ncc, -np.inf)
    order = np.argsort(lags)
    return lags[order], np.asarray(ncc[order], np.float64)


def _peak(lags: IntArray, ncc: FloatArray, dt: float, shift_s: float, exclude: int) -> _Peak | None:
    """The best lag, refined by a parabola, with its margin over the best lag ``exclude`` away."""
    if not np.isfinite(ncc).any():
        return None
    i = int(np.argmax(ncc))
    best = float(ncc[i])
    frac = 0.0
    if 0 < i < ncc.shape[0] - 1 and np.isfinite(ncc[i - 1]) and np.isfinite(ncc[i + 1]):
        y0, y1, y2 = float(ncc[i - 1]), best, float(ncc[i + 1])
        denom = y0 - 2.0 * y1 + y2
        if denom < 0:
            frac = float(np.clip(0.5 * (y0 - y2) / denom, -0.5, 0.5))
    far = np.abs(lags - lags[i]) > exclude
    second = float(ncc[far].max()) if far.any() and np.isfinite(ncc[far]).any() else -1.0
    return _Peak((float(lags[i]) + frac) * dt - shift_s, best, best - max(second, -1.0))


@dataclass
class _Grid:
    dt: float
    p: FloatArray
    s_t: FloatArray
    s_v: FloatArray
    s_span: float


def _grid(primary: Recording, secondary: Recording, channel: str) -> _Grid:
    ps = _series(primary, channel)
    ss = _series(secondary, channel)
    assert ps is not None and ss is not None
    span_p = float(ps[0].max() - ps[0].min())
    span_s = float(ss[0].max() - ss[0].min())
    dt = min(_period(ps[0]), _period(ss[0]))
    dt = max(dt, (span_p + span_s) / MAX_GRID_POINTS)
    p = _on_grid(ps[0], ps[1], dt, 0.0, int(float(ps[0].max()) / dt) + 1)
    return _Grid(dt, _standardise(p), ss[0], ss[1], span_s)


def _standardise(v: FloatArray) -> FloatArray:
    sd = float(np.std(v))
    return np.asarray((v - float(np.mean(v))) / (sd if sd > 0 else 1.0), np.float64)


def _min_overlap_s(g: _Grid, primary_span: float) -> float:
    shorter = min(g.s_span, primary_span)
    return max(min(MIN_OVERLAP_S, shorter), MIN_OVERLAP_FRACTION * shorter)


def _correlate_window(
    g: _Grid,
    t0: float,
    t1: float,
    min_overlap_s: float,
    exclude_s: float,
    near: tuple[float, float] | None = None,
) -> _Peak | None:
    """Match the secondary's samples in ``[t0, t1]`` (its own time) against the primary.

    ``near`` = (offset, radius) limits the search to offsets within ``radius`` of ``offset``.
    """
    count = int((t1 - t0) / g.dt) + 1
    if count < 3:
        return None
    s = _standardise(_on_grid(g.s_t, g.s_v, g.dt, t0, count))
    lags, ncc = normalised_xcorr(g.p, s, max(3, int(min_overlap_s / g.dt)))
    if near is not None:
        ncc = np.where(np.abs(lags * g.dt - t0 - near[0]) <= near[1], ncc, -np.inf)
    return _peak(lags, ncc, g.dt, t0, max(1, int(exclude_s / g.dt)))


def correlate(
    primary: Recording, secondary: Recording, channel: str, near: tuple[float, float] | None = None
) -> _Peak | None:
    """The coarse offset over the whole files (None if no lag overlaps enough).

    ``near`` = (offset, radius) limits the search to offsets within ``radius`` of ``offset``.
    """
    g = _grid(primary, secondary, channel)
    span_p = g.p.shape[0] * g.dt
    t0 = float(g.s_t.min())
    return _correlate_window(g, t0, float(g.s_t.max()), _min_overlap_s(g, span_p), EXCLUDE_S, near)


def estimate_drift(
    primary: Recording, secondary: Recording, channel: str, offset_s: float, warnings: list[str]
) -> tuple[float, float] | None:
    """(drift ppm, offset at secondary time 0) where the windows prove a drift, else None."""
    g = _grid(primary, secondary, channel)
    span_p = g.p.shape[0] * g.dt
    # the part of the secondary the primary also covers, on the secondary's clock
    lo = max(float(g.s_t.min()), -offset_s)
    hi = min(float(g.s_t.max()), span_p - offset_s)
    if hi - lo < 4 * MIN_OVERLAP_S:
        return None
    width = (hi - lo) / DRIFT_WINDOWS
    centres: list[float] = []
    offsets: list[float] = []
    for k in range(DRIFT_WINDOWS):
        a = lo + k * width
        peak = _window_near(g, a, a + width, offset_s)
        if peak is None or peak.value < MIN_PEAK:
            return None  # one window could not be matched: no proof either way
        centres.append(a + 0.5 * width)
        offsets.append(peak.offset_s)
    return _fit_drift(centres, offsets, g.dt, hi - lo, warnings)


def _window_near(g: _Grid, a: float, b: float, offset_s: float) -> _Peak | None:
    """A window matched only within DRIFT_SEARCH_S of the coarse offset."""
    count = int((b - a) / g.dt) + 1
    s = _standardise(_on_grid(g.s_t, g.s_v, g.dt, a, count))
    lags, ncc = normalised_xcorr(g.p, s, max(3, int(0.8 * count)))
    near = np.abs(lags * g.dt - a - offset_s) <= DRIFT_SEARCH_S
    ncc = np.where(near, ncc, -np.inf)
    return _peak(lags, ncc, g.dt, a, 1)


def _fit_drift(
    centres: Sequence[float], offsets: Sequence[float], dt: float, span: float, warnings: list[str]
) -> tuple[float, float] | None:
    x = np.asarray(centres)
    y = np.asarray(offsets)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    n = x.shape[0]
    se = float(np.sqrt(np.sum(resid**2) / max(n - 2, 1) / np.sum((x - x.mean()) ** 2)))
    moved = abs(slope) * span
    proven = moved > 0.5 * dt and abs(slope) > 4.0 * se and float(np.abs(resid).max()) < 0.5 * dt
    if not proven:
        return None
    ppm = float(slope) * 1e6
    if abs(ppm) > MAX_DRIFT_PPM:
        warnings.append(f"apparent clock drift of {ppm:.0f} ppm is not a clock: not corrected")
        return None
    return ppm, float(intercept)


def _absolute_offset(primary: Recording, secondary: Recording) -> float | None:
    a, b = primary.started_at, secondary.started_at
    if not (_aware(a) and _aware(b)):
        return None
    assert a is not None and b is not None
    return (b - a).total_seconds()


def _aware(d: datetime | None) -> bool:
    return d is not None and d.tzinfo is not None and d.utcoffset() is not None


def _span(rec: Recording) -> float:
    return float(rec.time[-1] - rec.time[0]) if rec.sample_count else 0.0


def _naive_utc(d: datetime) -> datetime:
    return d.astimezone(UTC).replace(tzinfo=None) if _aware(d) else d.replace(tzinfo=None)


def _place(rec: Recording) -> tuple[float, float] | None:
    lat, lon = rec.standard("lat"), rec.standard("long")
    if lat is None or lon is None:
        return None
    ok = np.isfinite(lat) & np.isfinite(lon) & ((lat != 0) | (lon != 0)) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if not ok.any():
        return None
    return float(np.median(lat[ok])), float(np.median(lon[ok]))


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = (np.radians(v) for v in (*a, *b))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return float(6371.0 * 2 * np.arcsin(np.sqrt(min(1.0, float(h)))))


def _words(name: str) -> set[str]:
    return {w for w in re.findall(r"\w+", name.casefold()) if len(w) >= 3 or not w.isascii()}


def check_same_run(primary: Recording, secondary: Recording) -> None:
    """Refuse files that cannot be of one run: different days, places or tracks.

    Each test names itself in the message. Only what both files state is compared: a file
    without a date, position or track name passes that test.
    """
    a, b = primary.started_at, secondary.started_at
    if a is not None and b is not None:
        same_kind = _aware(a) == _aware(b)
        slack = SAME_RUN_SLACK_S if same_kind else SAME_RUN_ZONE_SLACK_S
        gap = abs((_naive_utc(b) - _naive_utc(a)).total_seconds())
        if gap > max(_span(primary), _span(secondary)) + slack:

            def when(d: datetime) -> str:
                return f"{_naive_utc(d):%Y-%m-%d %H:%M} {'UTC' if _aware(d) else '(local time)'}"

            raise AlignmentError(
                f"different runs (date test): {primary.path.name} starts {when(a)}, "
                f"{secondary.path.name} {when(b)}, {gap / 86400:.1f} days apart{FORCE_HINT}"
            )
    pa, pb = _place(primary), _place(secondary)
    if pa is not None and pb is not None:
        km = _km(pa, pb)
        if km > MAX_PLACE_DISTANCE_KM:
            raise AlignmentError(
                f"different runs (position test): the files were recorded {km:,.0f} km apart "
                f"({pa[0]:.4f}, {pa[1]:.4f} and {pb[0]:.4f}, {pb[1]:.4f}){FORCE_HINT}"
            )
    elif primary.track and secondary.track:
        wa, wb = _words(primary.track), _words(secondary.track)
        ta, tb = primary.track.casefold().strip(), secondary.track.casefold().strip()
        if wa and wb and not (wa & wb) and ta not in tb and tb not in ta:
            raise AlignmentError(
                f"different runs (track test): {primary.path.name} is at {primary.track!r}, "
                f"{secondary.path.name} at {secondary.track!r}{FORCE_HINT}"
            )


def align(primary: Recording, secondary: Recording, *, offset_s: float | None = None) -> Alignment:
    """Find how the secondary's clock maps onto the primary's (see the module docstring).

    ``offset_s`` forces the offset (the user's choice); a drift the correlation proves is
    still applied. Raises :class:`AlignmentError` when there is neither absolute time nor a
    channel to correlate, or when the correlation is too weak or ambiguous to trust.
    """
    warnings: list[str] = []
    if offset_s is None:  # a forced offset is the user's word that the files are one run
        check_same_run(primary, secondary)
    absolute = _absolute_offset(primary, secondary)
    channel = common_channel(primary, secondary)
    near = None if absolute is None else (absolute, MAX_CLOCK_ERROR_S)
    peak = correlate(primary, secondary, channel, near) if channel is not None else None
    trusted = peak is not None and _trusted(peak)
    corr_at_zero, ppm = _corrected(primary, secondary, channel, peak if trusted else None, warnings)
    confidence, margin = (peak.value, peak.margin) if trusted and peak is not None else (1.0, 1.0)
    if offset_s is not None:
        return Alignment(
            offset_s, ppm, confidence, margin, "manual", channel if trusted else None, corr_at_zero, absolute, warnings
        )
    if absolute is not None:
        result = Alignment(absolute, ppm, confidence, margin, "absolute", None, None, absolute, warnings)
        _confirm_clocks(result, channel, corr_at_zero)
        return result
    _check_correlation(primary, secondary, channel, peak, corr_at_zero)
    assert corr_at_zero is not None
    return Alignment(corr_at_zero, ppm, confidence, margin, "correlation", channel, corr_at_zero, None, warnings)


def _corrected(
    primary: Recording, secondary: Recording, channel: str | None, peak: _Peak | None, warnings: list[str]
) -> tuple[float | None, float]:
    """The correlation's offset at the secondary's first sample, drift-corrected where
    proven, and the drift (ppm); None and 0 without a trusted ``peak``."""
    if peak is None or channel is None:
        return None, 0.0
    drift = estimate_drift(primary, secondary, channel, peak.offset_s, warnings)
    if drift is None:
        return peak.offset_s, 0.0
    ppm, corr_at_zero = drift
    warnings.append(f"clock drift of {ppm:+.1f} ppm between the files corrected")
    return corr_at_zero, ppm


def _confirm_clocks(result: Alignment, channel: str | None, corr_at_zero: float | None) -> None:
    """An offset from the files' clocks, checked against the correlation where there is one."""
    absolute = result.offset_s
    if corr_at_zero is not None:
        result.correlation_offset_s = corr_at_zero
        result.channel = channel
        if abs(corr_at_zero - absolute) > CLOCK_TOLERANCE_S:
            result.warnings.append(
                f"the files' clocks disagree with their {channel} traces by "
                f"{absolute - corr_at_zero:+.3f} s: offset from the correlation"
            )
            result.offset_s, result.method = corr_at_zero, "correlation"
        else:
            result.method = "absolute+correlation"
    elif channel is not None:
        result.warnings.append(f"offset from the files' clocks only: the {channel} traces do not confirm it")


def _check_correlation(
    primary: Recording, secondary: Recording, channel: str | None, peak: _Peak | None, corr_at_zero: float | None
) -> None:
    """Without absolute times the correlation alone decides: refuse it unless it proves the match."""
    if channel is None:
        raise AlignmentError(
            "no absolute start time in both files and no channel both log "
            f"({', '.join(CORRELATION_CHANNELS)}) to correlate"
        )
    if peak is None:
        raise AlignmentError(
            f"the {channel} traces never overlap long enough to compare (at least "
            f"{MIN_OVERLAP_FRACTION:.0%} of the shorter file): the files may not overlap"
        )
    shorter = min(_span(primary), _span(secondary))
    if shorter < MIN_CORRELATION_S:
        raise AlignmentError(
            f"different runs? (correlation test): the shorter file spans {shorter:.0f} s, too short "
            f"for its {channel} trace to prove the match (needs {MIN_CORRELATION_S:.0f} s "
            f"without absolute start times in both files){FORCE_HINT}"
        )
    if corr_at_zero is None:
        raise AlignmentError(
            f"different runs? (correlation test): the {channel} traces do not match well enough "
            f"(peak correlation {peak.value:.3f}, lead over the next candidate {peak.margin:.3f}; "
            f"needs {MIN_PEAK:.3f} and {MIN_MARGIN:.3f}, unrelated files reach 0.93): the files "
            f"may not overlap{FORCE_HINT}"
        )


def _trusted(peak: _Peak) -> bool:
    return peak.value >= MIN_PEAK and peak.margin >= MIN_MARGIN
