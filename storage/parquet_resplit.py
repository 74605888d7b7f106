"""Re-split a saved session: new laps into its Parquet file and the catalogue, crash-safe
(docs/laps.md#splitting-a-saved-session-again).

The catalogue's ``laps_revision`` and the Parquet footer's ``laps_revision`` extra say
which laps each holds. :func:`commit_resplit` goes:

1. pick a new revision ``n``, larger than the current ``r`` and, with a random step,
   different from what a concurrent re-split of the same session picks; write the whole
   session with its new laps (one row group per lap, new lap index) to a pending file next
   to the old one, ``.<id>-r<n>.parquet.resplit`` (itself written to a temp file, fsynced
   and renamed, as every Parquet write), footer revision ``n``;
2. one catalogue transaction: the old laps out, the new ones in, revision ``n`` (refused
   if the revision is no longer ``r``: another re-split won);
3. ``os.replace`` the pending file over ``<id>.parquet`` and fsync the folder.

A crash before 2 commits leaves the old laps in both (the pending file is a leftover that
:func:`settle_resplits` reports); a crash after it leaves a pending file whose revision is
the catalogue's, and :func:`settle_resplits` (run by ``recover``) finishes step 3. So
after recovery the catalogue and the file hold the same laps, old or new, never a mix.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Engine

from storage.db.catalog import NewLaps, laps_revision, replace_laps
from storage.parquet import ParquetTelemetryStorage, TelemetryFileError, fsync_dir
from storage.types import Checkpoint, SessionMetadata, SessionTelemetry

#: the footer's ``metadata.extra`` key holding the revision of the file's laps
REVISION_KEY = "laps_revision"
PENDING_SUFFIX = ".parquet.resplit"


#: the random part of a revision step: concurrent re-splits never pick the same revision
_STEP = 1 << 32


class _PendingStorage(ParquetTelemetryStorage):
    """The same storage, writing and reading one pending file of a session instead."""

    def __init__(self, storage: ParquetTelemetryStorage, revision: int) -> None:
        super().__init__(
            storage.root, storage.compression, storage.compression_level, adaptive_encoding=storage.adaptive_encoding
        )
        self.revision = revision

    def path_for(self, session_id: int) -> Path:
        return pending_path(self, session_id, self.revision)


def pending_path(storage: ParquetTelemetryStorage, session_id: int, revision: int) -> Path:
    """Where a re-split's new file waits until the catalogue has committed its laps."""
    # one dot-free stem: the temp files of the write then parse like every other
    # (``.<stem>.parquet.<pid>...``, see storage.parquet) and recover cleans them alike
    return storage.folder / f".{int(session_id)}-r{int(revision)}{PENDING_SUFFIX}"


def next_revision(revision: int) -> int:
    """A revision after ``revision`` that a concurrent re-split will not pick too."""
    return revision + 1 + secrets.randbelow(_STEP)


def file_revision(metadata: SessionMetadata) -> int:
    """The laps revision a footer's metadata names (0: never re-split)."""
    raw = metadata.extra.get(REVISION_KEY, "0")
    try:
        return int(raw)
    except ValueError:
        return 0


def _complete(storage: ParquetTelemetryStorage, session_id: int, revision: int) -> bool:
    """Whether the pending file of that revision is complete and says so in its footer."""
    try:
        footer = _PendingStorage(storage, revision).read_footer(session_id)
    except (TelemetryFileError, OSError):
        return False
    return footer is not None and file_revision(footer.metadata) == revision


def write_pending(
    storage: ParquetTelemetryStorage,
    session_id: int,
    telemetry: SessionTelemetry,
    revision: int,
    checkpoint: Checkpoint | None = None,
) -> Path:
    """Step 1: the session with its new laps into its pending file, footer revision
    ``revision``; the storage's codec and encodings, its atomic write. ``checkpoint`` is
    told ``parquet`` at each progress report of the write."""
    meta = replace(telemetry.metadata, extra={**telemetry.metadata.extra, REVISION_KEY: str(revision)})
    staged = replace(telemetry, session_id=session_id, metadata=meta)

    def report(done: int, total: int) -> None:
        if checkpoint is not None:
            checkpoint("parquet")

    return _PendingStorage(storage, revision).write(staged, report)


def _swap(storage: ParquetTelemetryStorage, session_id: int, revision: int) -> Path:
    final = storage.path_for(session_id)
    os.replace(pending_path(storage, session_id, revision), final)
    fsync_dir(storage.folder)
    return final


def commit_resplit(
    engine: Engine,
    storage: ParquetTelemetryStorage,
    session_id: int,
    base_revision: int,
    telemetry: SessionTelemetry,
    new: NewLaps,
    *,
    checkpoint: Checkpoint | None = None,
) -> int:
    """Steps 1-3 of the module docstring; return the new revision (larger than the base).

    ``telemetry`` must hold the session's rows, cut into ``new.laps``. If step 1 or 2
    fails the pending file is removed and nothing changed; the error propagates.
    ``checkpoint`` (the caller's) is told ``parquet`` during step 1, then
    ``resplit_written``, ``resplit_committed`` and ``resplit_swapped`` (docs/storage.md#checkpoints).
    """
    at = checkpoint or (lambda stage: None)
    if [lap.lap_number for lap in telemetry.laps] != [lap.lap_number for lap in new.laps]:
        raise ValueError("the telemetry's laps are not the new laps")
    revision = next_revision(base_revision)
    try:
        staged = write_pending(storage, session_id, telemetry, revision, at)
        at("resplit_written")
        replace_laps(engine, session_id, base_revision, new, revision, file_size=staged.stat().st_size)
    except BaseException:
        with suppress(OSError):
            pending_path(storage, session_id, revision).unlink()
        raise
    at("resplit_committed")
    _swap(storage, session_id, revision)
    at("resplit_swapped")
    return revision


@dataclass
class ResplitRecovery:
    """What :func:`settle_resplits` did: sessions whose new file it put in place, and
    pending files of re-splits that never committed (left alone, like temp files)."""

    finished: list[int] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)


def pending_files(storage: ParquetTelemetryStorage) -> list[tuple[int, int]]:
    """(session id, revision) of every pending file, sorted."""
    if not storage.folder.is_dir():
        return []
    out: list[tuple[int, int]] = []
    for p in storage.folder.glob(f".*{PENDING_SUFFIX}"):
        sid, _, rev = p.name[1 : -len(PENDING_SUFFIX)].partition("-r")
        if sid.isdigit() and rev.isdigit() and int(sid) > 0:
            out.append((int(sid), int(rev)))
    return sorted(out)


def settle_resplits(engine: Engine, storage: ParquetTelemetryStorage) -> ResplitRecovery:
    """Finish re-splits whose laps the catalogue committed; list the ones that never did."""
    out = ResplitRecovery()
    for session_id, revision in pending_files(storage):
        if revision == laps_revision(engine, session_id) and _complete(storage, session_id, revision):
            _swap(storage, session_id, revision)  # the catalogue has its size already
            out.finished.append(session_id)
        else:
            out.leftovers.append(pending_path(storage, session_id, revision))
    return out
