"""Qt-free analysis of laps: delta time, decimation for display, formatting of values.

The GUI draws what these compute; the CLI and tests can use them without Qt (an
import-linter contract keeps Qt out of this package).
"""
