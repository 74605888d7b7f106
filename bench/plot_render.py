"""Preview rendering on a 2 h, 100 Hz session: show_laps time, repaint time, points per curve.

``python -m bench plot_render [--width 1400] [--height 900] [--repeats 3]``

Builds a synthetic session (720,000 samples at 100 Hz: one whole-session lap 0 of 2 h,
and three ~90 s laps cut from it), then for each scenario times ``PreviewWidget.show_laps``
and a repaint (``widget.grab()``), and counts the points handed to each curve (what the
preview gives pyqtgraph) and displayed (``PlotDataItem.getData()`` after pyqtgraph's own
clipping/downsampling) against the plot area's width in pixels. Prints a table; asserts
nothing (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from storage.types import LapTelemetry

RATE_HZ = 100.0
SESSION_S = 2 * 3600.0
LAP_S = 90.0
TRACK_M = 4000.0


def synthetic_session() -> tuple[LapTelemetry, list[LapTelemetry], dict[str, str]]:
    """Lap 0 = the whole 2 h session; three 90 s laps (laps 1-3) as flying laps."""
    n = int(SESSION_S * RATE_HZ)
    rng = np.random.default_rng(7)
    t = np.arange(n) / RATE_HZ
    phase = 2 * np.pi * t / LAP_S
    speed = 150.0 + 60.0 * np.sin(3 * phase) + rng.normal(0.0, 1.5, n)
    distance = np.cumsum(speed / 3.6 / RATE_HZ)
    angle = 2 * np.pi * distance / TRACK_M
    lat0, long0 = 47.22, 14.76
    lat = lat0 + 0.006 * np.sin(angle) + 0.002 * np.sin(3 * angle)
    long = long0 + 0.009 * np.cos(angle)
    channels = {
        "time": t,
        "distance": distance,
        "lat": lat,
        "long": long,
        "speed": speed,
        "throttle": np.clip(50 + 60 * np.sin(3 * phase + 0.3), 0, 100),
        "brake": np.clip(-40 * np.sin(3 * phase + 0.3), 0, None),
        "gear": np.clip(np.round(3.5 + 2.5 * np.sin(3 * phase)), 1, 6),
        "rpm": 4000 + 4000 * np.abs(np.sin(9 * phase)),
        "steering": 90 * np.sin(7 * phase) + rng.normal(0.0, 2.0, n),
        "glat": 1.8 * np.sin(7 * phase),
        "glong": np.gradient(speed) * RATE_HZ / 3.6 / 9.80665,
    }
    # a slower channel: GPS-rate lat/long (NaN between its own samples, as the files have it)
    for name in ("lat", "long"):
        channels[name] = channels[name].copy()
        channels[name][np.arange(n) % 4 != 0] = np.nan
    whole = LapTelemetry(0, 0.0, channels)
    laps = []
    for number in (1, 2, 3):
        a = int(number * LAP_S * RATE_HZ)
        b = int((number + 1) * LAP_S * RATE_HZ)
        part = {k: v[a:b].copy() for k, v in channels.items()}
        part["time"] = part["time"] - part["time"][0]
        part["distance"] = part["distance"] - part["distance"][0]
        laps.append(LapTelemetry(number, float(t[a]), part))
    units = {
        "time": "s",
        "distance": "m",
        "lat": "deg",
        "long": "deg",
        "speed": "km/h",
        "throttle": "%",
        "brake": "bar",
        "gear": "",
        "rpm": "rpm",
        "steering": "deg",
        "glat": "g",
        "glong": "g",
    }
    return whole, laps, units


def _best_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return min(times), statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench plot_render", description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from desktop_app.gui.preview import PreviewWidget

    app = QApplication.instance() or QApplication([])
    whole, laps, units = synthetic_session()
    widget = PreviewWidget()
    widget.resize(args.width, args.height)
    widget.show()
    app.processEvents()

    scenarios: list[tuple[str, Callable[[], None]]] = [
        ("lap 0 (2 h, 720k samples)", lambda: widget.show_laps([whole], None, units)),
        ("3 laps of 90 s + ref", lambda: widget.show_laps(laps, laps[0], units)),
        ("lap 0 + 90 s lap, ref = lap 1", lambda: widget.show_laps([whole, laps[0]], laps[0], units)),
        ("lap 0, time axis", lambda: widget.show_laps([whole], None, units)),
    ]
    header = (
        f"{'scenario':<32} {'show_laps ms':>13} {'grab ms':>8} {'zoom ms':>8} {'cursor ms':>9} "
        f"{'view px':>7} {'raw/curve':>9} {'handed':>7} {'drawn':>6} {'map pts':>7} {'map px':>6}"
    )
    print(
        f"synthetic session: {len(whole):,} samples at {RATE_HZ:.0f} Hz, {len(whole.channels)} channels; "
        f"widget {args.width}x{args.height}, best of {args.repeats}"
    )
    print(header)
    print("-" * len(header))
    for name, show in scenarios:
        if "time axis" in name:
            widget.set_x_axis("time")
        show_ms, _ = _best_ms(show, args.repeats)
        app.processEvents()
        grab_ms, _ = _best_ms(widget.grab, args.repeats)
        x0, x1 = widget.plots.x_range()
        zoom = widget.plots.plot(widget.plots.plot_keys()[0])

        def zoom_and_grab() -> None:
            zoom.setXRange(x0 + (x1 - x0) * 0.40, x0 + (x1 - x0) * 0.45, padding=0.0)
            widget.grab()
            zoom.setXRange(x0, x1, padding=0.0)

        zoom_ms, _ = _best_ms(zoom_and_grab, args.repeats)
        cursor_ms, _ = _best_ms(lambda: widget.set_cursor(x0 + (x1 - x0) * 0.3), args.repeats)
        width = widget.plots.view_width_px()
        curves = [c for key in widget.plots.plot_keys() for c in widget.plots.curves(key)]
        raw = max(c.x.size for c in curves)
        handed = max(int(len(c.item.xData)) for c in curves)
        drawn = max(c.points_shown() for c in curves)
        print(
            f"{name:<32} {show_ms:>13.1f} {grab_ms:>8.1f} {zoom_ms:>8.1f} {cursor_ms:>9.2f} {width:>7} "
            f"{raw:>9,} {handed:>7} {drawn:>6} {widget.track_map.points_shown():>7} {widget.track_map.view_width_px():>6}"
        )
    widget.set_x_axis("distance")
    print("\nraw/curve: most samples behind one curve; handed: most points given to one curve;")
    print("drawn: most points pyqtgraph draws for one curve; both must stay <= view px (map: <= map px).")
    widget.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
