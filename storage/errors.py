"""The root of every error Laptrace raises on purpose, and the storage layer's family.

:class:`LaptraceError` lives in ``storage`` because it is the bottom layer: storage may import
nothing of the application, and every other package may import storage. Each layer's errors
subclass it (the family tree is in docs/architecture.md#errors), so the command line and the
window catch one family and show each error's own message.
"""

from __future__ import annotations

__all__ = ["LaptraceError", "StorageError"]


class LaptraceError(Exception):
    """An error Laptrace raises on purpose; its message is written for the user."""


class StorageError(LaptraceError):
    """The catalogue or a telemetry file could not do what was asked."""
