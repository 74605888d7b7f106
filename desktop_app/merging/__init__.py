"""Qt-free: one session from two loggers of the same run (a GPS logger and an ECU logger).

:func:`merge_recordings` aligns the two files' clocks (:mod:`.align`: absolute time checked
by cross-correlation, drift where proven) and puts both on the union of their time bases
(:mod:`.combine`). Files that cannot be aligned or do not overlap raise :class:`MergeError`.
"""

from __future__ import annotations

from .align import CORRELATION_CHANNELS, Alignment, AlignmentError, align, common_channel
from .combine import GPS_CHANNELS, MergeError, MergeResult, Side, SourceChannels, merge_recordings

__all__ = [
    "CORRELATION_CHANNELS",
    "GPS_CHANNELS",
    "Alignment",
    "AlignmentError",
    "MergeError",
    "MergeResult",
    "Side",
    "SourceChannels",
    "align",
    "common_channel",
    "merge_recordings",
]
