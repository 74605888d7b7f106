"""Laptrace: the desktop application for race engineers."""

__version__ = "0.1.0"
