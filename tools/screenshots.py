"""``python -m tools.screenshots OUTDIR [--loggers DIR]``: PNGs of the main states.

Runs the real window (offscreen unless a display is set) on a throw-away catalogue and the
real sample logger files, and saves ``widget.grab()`` of: the empty window, a file loaded
with laps overlaid and the map, its g-g scatter and rpm histogram, the map's timing lines
after the engineer moved a split line (window and map close-up), the sessions browser, and
an error in the import list (plus the loaded file in the dark theme). The steps are driven by a timer, so the event loop runs
normally throughout.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

#: the sample files shown (paths under the loggers folder)
LAPS_FILE = "aim_csv/aim_format_example.csv"
OTHER_FILES = ("racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv", "vbo/racechrono_2023Rd3_1.vbo")
SIZE = (1600, 1000)

Step = tuple[str, Callable[[], object], Callable[[], bool]]


def default_loggers() -> Path:
    env = os.environ.get("LAPTRACE_LOGGERS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "loggers"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--loggers", type=Path, default=default_loggers(), help="the sample logger files")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = tempfile.TemporaryDirectory(prefix="laptrace-shots-")
    os.environ["LAPTRACE_CONFIG_DIR"] = str(Path(scratch.name) / "config")
    try:
        return _run(args.outdir, args.loggers, Path(scratch.name) / "data")
    finally:
        scratch.cleanup()


def _run(outdir: Path, loggers: Path, data: Path) -> int:
    # Qt is imported here so that --help works without a display
    from PySide6.QtCore import QTimer

    from desktop_app.config import Config, Settings
    from desktop_app.gui.app import application, start_window
    from desktop_app.gui.theme import apply_theme
    from desktop_app.gui.warmup import settle_heap, warm_up

    outdir.mkdir(parents=True, exist_ok=True)
    app = application()
    apply_theme(app, "light")
    warm_up()
    config = Config(data_dir=data, database_url=f"sqlite:///{(data / 'laptrace.sqlite3').as_posix()}")
    win = start_window(config, Settings())
    win.resize(*SIZE)
    settle_heap()
    win.show()
    bad = data.parent / "lap_export_broken.vbo"
    real = (loggers / "vbo" / "racechrono_2023Rd3_1.vbo").read_bytes().split(b"\n")
    bad.write_bytes(b"\n".join(real[:120] + [b"+036.97 nonsense here"] + real[121:200]))
    # a WinDarab export with a sensor state that changes during the run (a text channel)
    states = data.parent / "sim_data_states.txt"
    lines = (loggers / "bosch_windarab_txt" / "sim_data.txt").read_bytes().split(b"\r\n")
    names = next(i for i, line in enumerate(lines) if line.startswith(b"xtime"))
    for i in range(names, len(lines)):
        if lines[i].strip():
            cam = (b"running", b"timeout", b"waitCam")[((i - names) // 1000) % 3]
            lines[i] += b"\tcam_state" if i == names else b"\t%12s" % cam
    states.write_bytes(b"\r\n".join(lines))
    saved: list[str] = []

    def grab(name: str) -> None:
        path = outdir / name
        win.grab().save(str(path))
        saved.append(str(path))
        if name == "08-map-lines.png":
            close = outdir / "09-map-lines-closeup.png"
            win.view.preview.track_map.grab().save(str(close))
            saved.append(str(close))

    def move_split_line() -> None:
        # the engineer drags the first split line about 100 m further along the track
        track_map = win.view.preview.track_map
        kinds = [x.kind for x in track_map.lines()]
        if "split" not in kinds:
            return
        k = kinds.index("split")
        (x1, y1), (x2, y2) = track_map.line_points()[k]
        xs, ys = track_map.trace_points()
        i = int(((xs - (x1 + x2) / 2) ** 2 + (ys - (y1 + y2) / 2) ** 2).argmin()) + 12
        dx, dy = xs[i + 1] - xs[i - 1], ys[i + 1] - ys[i - 1]
        norm = float((dx * dx + dy * dy) ** 0.5)
        ax, ay = -dy / norm * 10.0, dx / norm * 10.0
        track_map.move_line(k, (xs[i] - ax, ys[i] - ay), (xs[i] + ax, ys[i] + ay))

    def resplit_shown() -> bool:
        entry = win.entry
        return entry is not None and entry.imported is not None and entry.imported.draft.lap_source == "user"

    def all_read() -> bool:
        return bool(win.imports.entries) and all(e.state != "reading" for e in win.imports.entries)

    def laps_file_shown() -> bool:
        return win.entry is not None and win.entry.path.name == Path(LAPS_FILE).name and all_read()

    def overlay() -> None:
        # the two fastest valid laps after the best one (the best is drawn as the reference)
        table = win.view.table
        best = table.model().best_valid_lap()
        timed = [lap for lap in table.model().laps() if lap.valid and lap.lap_time_s and lap is not best]
        pick = [lap.lap_number for lap in sorted(timed, key=lambda lap: lap.lap_time_s or 0.0)[:2]]
        table.select_laps(sorted(pick) or ([best.lap_number] if best else []))
        win.view.preview.set_cursor(350.0)

    def show_histogram() -> None:
        preview = win.view.preview
        preview.tabs.setCurrentWidget(preview.histogram)
        preview.histogram.pickers["channel"].setCurrentText("rpm")

    def save_all() -> None:
        for entry in win.imports.entries:
            win.save_flow.save(entry)

    def saved_all() -> bool:
        return all(e.state in ("saved", "save-failed") for e in win.imports.entries) and not win.workers.writing

    def open_sessions() -> None:
        win.imports.clear_finished()
        win.dock.show()
        win.browser.refresh()

    def browser_listed() -> bool:
        return win.browser.model.rowCount() >= 1 + len(OTHER_FILES)

    def reopen() -> None:
        model = win.browser.model
        rows = range(model.rowCount())
        win.browser.view.selectRow(max(rows, key=lambda r: model.session_at(r).lap_count))
        win.browser.open_selected()

    def error_drop() -> None:
        win.dock.hide()
        win.open_paths([bad, loggers / "motec_csv" / "May_22_2026_Peter.csv", Path(data.parent / "missing.vbo")])

    def text_shown() -> bool:
        return (
            win.entry is not None and win.entry.path == states and "cam_state" in win.view.preview.available_channels()
        )

    def text_channel() -> None:
        preview = win.view.preview
        preview.set_channels([*preview.plotted_channels(), "cam_state"])
        preview.set_x_axis("time")
        preview.set_cursor(25.0)  # mid-plateau: the readout shows "waitCam"

    steps: list[Step] = [
        ("catalogue", lambda: None, lambda: win.catalogue is not None),
        ("01-empty.png", lambda: None, lambda: True),
        ("load", lambda: win.open_paths([loggers / LAPS_FILE, *(loggers / f for f in OTHER_FILES)]), all_read),
        ("show", lambda: win.imports.select(win.imports.entries[0]), laps_file_shown),
        ("overlay", overlay, lambda: len(win.view.table.selected_laps()) >= 1),
        ("02-laps-and-map.png", lambda: None, lambda: True),
        ("gg", lambda: win.view.preview.tabs.setCurrentWidget(win.view.preview.scatter), lambda: True),
        ("06-gg-scatter.png", lambda: None, lambda: True),
        ("histogram", show_histogram, lambda: True),
        ("07-histogram.png", lambda: None, lambda: True),
        ("traces", lambda: win.view.preview.tabs.setCurrentWidget(win.view.preview.plots), lambda: True),
        ("move line", move_split_line, resplit_shown),
        ("08-map-lines.png", lambda: None, lambda: True),
        ("dark", lambda: apply_theme(app, "dark"), lambda: True),
        ("05-dark.png", lambda: None, lambda: True),
        ("light", lambda: apply_theme(app, "light"), lambda: True),
        ("save", save_all, saved_all),
        ("sessions", open_sessions, browser_listed),
        ("reopen", reopen, lambda: win.saved is not None),
        ("03-sessions.png", lambda: None, lambda: True),
        ("errors", error_drop, lambda: sum(e.state == "failed" for e in win.imports.entries) >= 2 and all_read()),
        ("04-import-error.png", lambda: None, lambda: True),
        (
            "text",
            lambda: win.open_paths([states]),
            lambda: all_read() and any(e.path == states for e in win.imports.entries),
        ),
        ("show-text", lambda: win.imports.select(next(e for e in win.imports.entries if e.path == states)), text_shown),
        ("text-channel", text_channel, lambda: "cam_state" in win.view.preview.plotted_channels()),
        ("10-text-channel.png", lambda: None, lambda: True),
    ]
    state = {"i": 0, "started": 0, "settle": 0, "polls": 0}

    def tick() -> None:
        if state["i"] >= len(steps):
            win.close()
            app.quit()
            return
        name, action, ready = steps[state["i"]]
        if not state["started"]:
            state.update(started=1, settle=0, polls=0)
            action()
        elif ready():
            # a few more turns so that deferred paints land before a grab
            state["settle"] += 1
            if state["settle"] >= 10:
                if name.endswith(".png"):
                    grab(name)
                state.update(i=state["i"] + 1, started=0)
        else:
            state["polls"] += 1
            if state["polls"] > 3000:  # 60 s
                print(f"screenshots: step {name!r} timed out", file=sys.stderr)
                app.exit(1)
                return
        QTimer.singleShot(20, tick)

    QTimer.singleShot(0, tick)
    code = app.exec()
    win.workers.wait()
    for path in saved:
        print(path)
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
