"""Qt-free analysis of laps: delta time, decimation for display, formatting of values,
and the preview's state (which laps, reference, channels, graph layout, axis).

The GUI draws what these compute; the CLI and tests can use them without Qt (an
import-linter contract keeps Qt out of this package).
"""
