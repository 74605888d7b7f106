"""One Parquet file per session: ``<root>/telemetry/<session_id>.parquet`` (pyarrow).

The file layout (columns, field metadata, footer JSON) is in :mod:`storage.parquet_schema`.
Writes stream one lap at a time into one row group each, into a temp file in the same folder
that is fsynced and then ``os.replace``-d over the final name, so a reader sees either the
old complete file or the new complete file, never a partial one. Reads stream one row group
(lap) at a time; :meth:`ParquetTelemetryStorage.read_lap` reads only that lap's row group.

Storage knows nothing of the application: the caller decides where the data lives and
hands that folder to :class:`ParquetTelemetryStorage` (the app's configuration does,
docs/storage.md#what-storage-takes-from-its-caller).
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections import OrderedDict
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq

from storage.errors import StorageError
from storage.parquet_convert import choose_encodings, copy_footer, lap_sizes, lap_table, narrow_columns, to_numpy
from storage.parquet_encoding import COMPRESSIONS, Compression, writer_options
from storage.parquet_lapindex import index_block, lap_footer, read_index
from storage.parquet_schema import (
    FOOTER_KEY,
    LapIndexEntry,
    TelemetryFooter,
    arrow_schema,
    build_footer,
    column_names,
    decimals_of,
    decode_footer,
    encode_footer,
    labels_of,
)
from storage.types import LAP_COLUMN, LapTelemetry, Progress, SessionTelemetry

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

#: what this module gives; the schema's names (``column_names``, ``labels_of``,
#: ``TelemetryFooter``...) are imported from :mod:`storage.parquet_schema`, their one home
__all__ = ["ParquetTelemetryStorage", "TelemetryFileError", "check_session_id"]


class TelemetryFileError(StorageError):
    """A telemetry file that exists but cannot be read: corrupt, truncated or not ours."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


def check_session_id(session_id: object) -> int:
    """Session ids are positive ints (not bools); anything else is refused before any path
    is built, so no file name ever comes from user text."""
    if isinstance(session_id, bool) or not isinstance(session_id, int) or session_id <= 0:
        raise ValueError(f"session id must be a positive integer, not {session_id!r}")
    return session_id


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make the rename durable. Windows cannot open directories; some filesystems refuse."""
    if os.name == "nt":
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _lock_fd(fd: int) -> None:
    """Hold an exclusive lock on an open temp file (POSIX; on Windows an open file cannot
    be removed, which protects it the same way)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)


def _writer_pid(path: Path) -> int | None:
    """The pid in a temp file's name (``.<id>.parquet.<pid>.<random>.tmp``), if any."""
    parts = path.name.split(".")
    if len(parts) >= 6 and parts[3].isascii() and parts[3].isdigit() and 0 < int(parts[3]) < 1 << 31:
        return int(parts[3])
    return None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False  # kill(0 or -n) would signal a process group, not ask about one process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OverflowError:
        return False  # no such process can exist
    except (PermissionError, OSError):
        return True  # exists, someone else's: not ours to judge
    return True


def _remove_if_abandoned(path: Path) -> int | None:
    """Remove ``path`` if no live writer owns it; bytes freed, None if kept, -1 if gone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return -1
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return None  # a writer holds it
            pid = _writer_pid(path)
            # lock free but the writer alive: it is between creating and locking the file
            if pid is not None and _pid_alive(pid):
                return None
        else:
            pid = _writer_pid(path)
            if pid is not None and _pid_alive(pid):
                return None
        try:
            path.unlink()
        except FileNotFoundError:
            return -1
        except OSError:
            return None
        return st.st_size
    finally:
        os.close(fd)


_FOOTER_CACHE = 8  #: parsed footers kept per storage object
_WHOLE_FOOTER = object()  #: read_lap's answer when it must read the whole footer


def _insert_lap_index(path: Path, footer: TelemetryFooter) -> None:
    """Put the lap index right before the footer of the file just written (it only grows)."""
    with path.open("r+b") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(size - 8)
        tail = f.read(8)
        start = size - 8 - int.from_bytes(tail[:4], "little")
        f.seek(start)
        raw = f.read(size - 8 - start)
        laps = [(e.lap_number, e.rows, e.start_offset) for e in footer.laps]
        block = index_block(raw, footer.session_id, footer.channels, laps)
        f.seek(start)
        f.write(block + raw + tail)


class ParquetTelemetryStorage:
    """:class:`storage.types.TelemetryStorage` over ``<root>/telemetry/<session_id>.parquet``.

    ``root`` is the data directory. ``compression`` is any Parquet codec pyarrow has
    (``snappy``, ``zstd``, ``gzip``, ``brotli``, ``lz4``, ``none``). ``adaptive_encoding``
    picks each column's encoding from a sample of its data (see :mod:`storage.parquet_encoding`);
    off, every column is dictionary-encoded (pyarrow's default). ``narrow_floats`` stores a
    channel whose every value survives float32 as float32 (see :mod:`storage.parquet_decimals`);
    reads give back the same float64 values either way.
    """

    def __init__(
        self,
        root: str | Path,
        compression: str = "zstd",
        compression_level: int | None = None,
        *,
        adaptive_encoding: bool = True,
        narrow_floats: bool = True,
    ) -> None:
        codec = compression.lower()
        if codec not in COMPRESSIONS:
            raise ValueError(f"compression {compression!r} is not one of {', '.join(COMPRESSIONS)}")
        if codec != "none" and not pa.Codec.is_available(codec):  # type: ignore[arg-type]
            raise ValueError(f"compression codec {compression!r} is not available in this pyarrow")
        self.root = Path(root)
        self.folder = self.root / "telemetry"
        self.compression = cast(Compression, codec)
        self.compression_level = compression_level
        self.adaptive_encoding = adaptive_encoding
        self.narrow_floats = narrow_floats
        # Parsed footers of recently read files. A 24 h session's Parquet footer is a few MB
        # (one entry per lap and column) and parsing it costs tens of ms, more than reading
        # the lap itself; the key changes whenever the file does (os.replace: new inode).
        self._footers: OrderedDict[Path, tuple[tuple[int, int, int], pq.FileMetaData, TelemetryFooter]]
        self._footers = OrderedDict()
        self._footers_lock = threading.Lock()

    def path_for(self, session_id: int) -> Path:
        return self.folder / f"{check_session_id(session_id)}.parquet"

    # --- writing ----------------------------------------------------------------------

    def write(self, telemetry: SessionTelemetry, progress: Progress | None = None) -> Path:
        """Write the session atomically and return the file's path.

        ``progress(laps_written, total_laps)`` is called before the first lap and after each
        one; if it raises (how the GUI cancels), or anything else fails, the temp file is
        removed and a previous file under the final name is left untouched.
        """
        final = self.path_for(telemetry.session_id)
        aux_names = column_names(telemetry)
        rows = lap_sizes(telemetry, aux_names)
        footer, _ = build_footer(telemetry, rows)
        if self.narrow_floats:
            footer = replace(footer, decimals=narrow_columns(telemetry, footer, aux_names))
        schema = arrow_schema(footer)

        self.folder.mkdir(parents=True, exist_ok=True)
        # the writer's pid is in the name and it holds a lock on the temp file until the
        # rename, so recovery can tell a live write from a killed one (docs/storage.md)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=self.folder)
        tmp = Path(tmp_name)
        try:
            _lock_fd(fd)
            try:
                self._write_file(tmp, schema, footer, telemetry, rows, aux_names, progress)
                _fsync_file(tmp)
                os.replace(tmp, final)
            except BaseException:
                with suppress(OSError):
                    tmp.unlink()
                raise
        finally:
            os.close(fd)
        fsync_dir(self.folder)
        return final

    def _write_file(
        self,
        tmp: Path,
        schema: pa.Schema,
        footer: TelemetryFooter,
        telemetry: SessionTelemetry,
        rows: list[int],
        aux_names: dict[str, str],
        progress: Progress | None,
    ) -> None:
        encoding: dict[str, Any] = {}
        if self.adaptive_encoding:
            chosen = choose_encodings(telemetry, rows, footer, aux_names, self.compression, self.compression_level)
            encoding = writer_options(chosen, [LAP_COLUMN])
        writer = pq.ParquetWriter(
            tmp,
            schema,
            compression=self.compression,
            compression_level=self.compression_level,
            write_page_checksum=True,  # so a flipped byte is an error on read, not a wrong value
            **encoding,
        )
        total = len(telemetry.laps)
        try:
            if progress is not None:
                progress(0, total)
            for done, (lap, n) in enumerate(zip(telemetry.laps, rows, strict=True), start=1):
                # one lap -> one table -> one row group; the session is never concatenated
                writer.write_table(lap_table(lap, n, schema, footer, aux_names), row_group_size=max(n, 1))
                if progress is not None:
                    progress(done, total)
            writer.add_key_value_metadata({FOOTER_KEY.decode(): encode_footer(footer).decode()})
        except BaseException:
            with suppress(Exception):
                writer.close()
            raise
        writer.close()
        _insert_lap_index(tmp, footer)

    # --- reading ----------------------------------------------------------------------

    #: limits on what a file under ``telemetry/`` may ask of the reader, so that a foreign
    #: or hostile file is refused quickly with bounded memory (docs/storage.md). Far above
    #: what a saved session needs; tests lower them on an instance.
    max_footer_bytes = 64 << 20
    max_row_groups = 10_000
    max_columns = 10_000
    max_lap_bytes = 2 << 30  #: one lap (row group) decoded into memory

    def _open(self, session_id: int) -> tuple[pq.ParquetFile, TelemetryFooter] | None:
        path = self.path_for(session_id)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TelemetryFileError(path, f"cannot be read ({exc})") from exc
        if not stat.S_ISREG(st.st_mode):
            # a FIFO would block the open, a device never end
            raise TelemetryFileError(path, "not a regular file (a FIFO, device or folder in its place)")
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._footers_lock:
            cached = self._footers.get(path)
        if cached is not None and cached[0] != key:
            cached = None
        if cached is None:
            self._check_tail(path, st.st_size)
        try:
            pf = pq.ParquetFile(path, metadata=None if cached is None else cached[1], page_checksum_verification=True)
        except FileNotFoundError:
            return None
        except (pa.ArrowException, OSError) as exc:
            raise TelemetryFileError(path, f"not a readable Parquet file ({exc})") from exc
        if cached is not None:
            return pf, copy_footer(cached[2])
        try:
            footer = self._check_footer(path, pf, session_id)
        except (pa.ArrowException, OSError, RecursionError, MemoryError) as exc:
            pf.close()
            raise TelemetryFileError(path, f"not a readable session file ({type(exc).__name__}: {exc})") from exc
        except BaseException:
            pf.close()
            raise
        with self._footers_lock:
            self._footers[path] = (key, pf.metadata, footer)
            self._footers.move_to_end(path)
            while len(self._footers) > _FOOTER_CACHE:
                self._footers.popitem(last=False)
        return pf, copy_footer(footer)

    def _check_tail(self, path: Path, size: int) -> None:
        """The Parquet trailer (footer length, ``PAR1``) before any parsing: a file that is
        not Parquet, truncated, or whose footer is larger than any session's is refused
        without reading the footer."""
        if size < 12:
            raise TelemetryFileError(path, f"not a readable Parquet file: {size} bytes, too short (truncated?)")
        try:
            with path.open("rb") as f:
                head = f.read(4)
                f.seek(size - 8)
                tail = f.read(8)
        except OSError as exc:
            raise TelemetryFileError(path, f"cannot be read ({exc})") from exc
        if head != b"PAR1" or tail[4:] != b"PAR1":
            raise TelemetryFileError(
                path, "not a readable Parquet file: no PAR1 magic at its start and end (truncated or foreign)"
            )
        footer_len = int.from_bytes(tail[:4], "little")
        if footer_len > size - 12:
            raise TelemetryFileError(
                path,
                f"not a readable Parquet file: its footer length at byte {size - 8} says {footer_len} bytes, "
                f"the file has {size} (truncated?)",
            )
        if footer_len > self.max_footer_bytes:
            raise TelemetryFileError(
                path, f"footer of {footer_len} bytes is over the limit of {self.max_footer_bytes} (not a session file)"
            )

    def _check_footer(self, path: Path, pf: pq.ParquetFile, session_id: int) -> TelemetryFooter:
        meta = pf.metadata
        if meta.num_row_groups > self.max_row_groups:
            raise TelemetryFileError(
                path, f"{meta.num_row_groups} row groups, over the limit of {self.max_row_groups} (not a session file)"
            )
        if meta.num_columns > self.max_columns:
            raise TelemetryFileError(
                path, f"{meta.num_columns} columns, over the limit of {self.max_columns} (not a session file)"
            )
        raw = (meta.metadata or {}).get(FOOTER_KEY)
        if raw is None:
            raise TelemetryFileError(path, "not a Laptrace telemetry file: no 'laptrace' footer metadata")
        try:
            footer = decode_footer(raw)
        except (ValueError, RecursionError, TypeError, KeyError, AttributeError) as exc:
            raise TelemetryFileError(path, f"bad Laptrace footer: {exc}") from exc
        if footer.session_id != session_id:
            raise TelemetryFileError(path, f"holds session {footer.session_id}, not {session_id} (renamed file?)")
        schema = pf.schema_arrow
        lap_field = schema.field(LAP_COLUMN) if LAP_COLUMN in schema.names else None
        if lap_field is None or lap_field.type != pa.int32():
            raise TelemetryFileError(path, f"column {LAP_COLUMN!r} is missing or not int32")
        try:
            decimals = decimals_of(schema)
        except ValueError as exc:
            raise TelemetryFileError(path, str(exc)) from None
        if decimals and footer.format_version < 2:
            raise TelemetryFileError(path, f"format version {footer.format_version} file with float32 columns")
        for name in footer.channels:
            if name not in schema.names or schema.field(name).type not in (pa.float64(), pa.float32()):
                raise TelemetryFileError(path, f"channel column {name!r} is missing or not float64 (or float32)")
        if meta.num_row_groups != len(footer.laps):
            raise TelemetryFileError(
                path, f"footer lists {len(footer.laps)} laps but the file has {meta.num_row_groups} row groups"
            )
        row_bytes = 4 + 8 * len(footer.channels)  # the lap column (int32) and float64 channels
        for i, entry in enumerate(footer.laps):
            group = meta.row_group(i)
            if entry.row_group != i or group.num_rows != entry.rows:
                raise TelemetryFileError(path, f"lap {entry.lap_number}: lap index does not match row group {i}")
            decoded = max(group.num_rows * row_bytes, group.total_byte_size)
            if decoded > self.max_lap_bytes:
                raise TelemetryFileError(
                    path,
                    f"lap {entry.lap_number} (row group {i}) would take {decoded} bytes in memory, over the "
                    f"limit of {self.max_lap_bytes} (a file that expands far beyond its size)",
                )
        if footer.total_points != meta.num_rows:
            raise TelemetryFileError(path, f"footer says {footer.total_points} points, file has {meta.num_rows}")
        return replace(footer, decimals=decimals)

    def _read_lap(self, path: Path, pf: pq.ParquetFile, footer: TelemetryFooter, entry: LapIndexEntry) -> LapTelemetry:
        return self._read_group(path, pf, footer.channels, footer.decimals, entry, entry.row_group)

    def _read_group(
        self,
        path: Path,
        pf: pq.ParquetFile,
        names: list[str],
        narrow: dict[str, int],
        entry: LapIndexEntry,
        group: int,
    ) -> LapTelemetry:
        try:
            table = pf.read_row_group(group, columns=names)
        except (pa.ArrowException, OSError) as exc:
            raise TelemetryFileError(
                path, f"lap {entry.lap_number} (row group {entry.row_group}) cannot be read: {exc}"
            ) from exc
        if table.num_rows != entry.rows:
            raise TelemetryFileError(path, f"lap {entry.lap_number}: read {table.num_rows} rows, expected {entry.rows}")
        channels = {name: to_numpy(table.column(name), narrow.get(name)) for name in names}
        return LapTelemetry(entry.lap_number, entry.start_offset, channels)

    def read_footer(self, session_id: int) -> TelemetryFooter | None:
        """The footer (session metadata, channels, lap index) without reading any sample."""
        opened = self._open(session_id)
        if opened is None:
            return None
        pf, footer = opened
        pf.close()
        return footer

    def read(self, session_id: int) -> SessionTelemetry | None:
        """The whole session, one row group at a time, or None if there is no file."""
        opened = self._open(session_id)
        if opened is None:
            return None
        pf, footer = opened
        path = self.path_for(session_id)
        try:
            laps = [self._read_lap(path, pf, footer, entry) for entry in footer.laps]
            labels = labels_of(pf.schema_arrow)
        except ValueError as exc:
            raise TelemetryFileError(path, str(exc)) from None
        finally:
            pf.close()
        return SessionTelemetry(
            session_id=footer.session_id,
            laps=laps,
            auxiliary_channels=list(footer.auxiliary_channels),
            units=dict(footer.units),
            source_names=dict(footer.source_names),
            metadata=footer.metadata,
            labels=labels,
        )

    def read_labels(self, session_id: int) -> dict[str, tuple[str, ...]]:
        """The text channels' code-to-label tables (see :func:`labels_of`), without reading
        any sample; ``{}`` if there is no file."""
        opened = self._open(session_id)
        if opened is None:
            return {}
        pf, _ = opened
        try:
            return labels_of(pf.schema_arrow)
        except ValueError as exc:
            raise TelemetryFileError(self.path_for(session_id), str(exc)) from None
        finally:
            pf.close()

    def read_lap(self, session_id: int, lap_number: int) -> LapTelemetry | None:
        """One lap, reading only its row group; None if the session or the lap is absent."""
        if isinstance(lap_number, bool) or not isinstance(lap_number, int):
            raise ValueError(f"lap number must be an integer, not {lap_number!r}")
        indexed = self._read_lap_indexed(session_id, lap_number)
        if indexed is not _WHOLE_FOOTER:
            return cast(LapTelemetry | None, indexed)
        opened = self._open(session_id)
        if opened is None:
            return None
        pf, footer = opened
        try:
            entry = footer.lap(lap_number)
            return None if entry is None else self._read_lap(self.path_for(session_id), pf, footer, entry)
        finally:
            pf.close()

    def _read_lap_indexed(self, session_id: int, lap_number: int) -> LapTelemetry | object | None:
        """One lap through the file's lap index (storage.parquet_lapindex): the footer of that
        row group alone is parsed. ``_WHOLE_FOOTER`` when the footer is cached already or the
        index is missing or does not fit the file: then the whole footer is read and checked."""
        path = self.path_for(session_id)
        with self._footers_lock:
            if path in self._footers:
                return _WHOLE_FOOTER
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return None
        except OSError:
            return _WHOLE_FOOTER
        try:
            st = os.fstat(fd)
            index = read_index(fd, st.st_size, session_id) if stat.S_ISREG(st.st_mode) else None
            if index is None:
                return _WHOLE_FOOTER
            found = index.lap(lap_number)
            if found is None:  # no such lap, or an index that lost it: the footer decides
                return _WHOLE_FOOTER
            rows, start, stop = found.rows, found.start, found.stop
            tail = lap_footer(fd, index, start, stop)
        except (OSError, ValueError):
            return _WHOLE_FOOTER
        finally:
            os.close(fd)
        try:
            meta = pq.read_metadata(pa.BufferReader(tail))
            pf = pq.ParquetFile(path, metadata=meta, page_checksum_verification=True)
        except (pa.ArrowException, OSError):
            return _WHOLE_FOOTER
        try:
            schema = pf.schema_arrow
            decimals = decimals_of(schema)
            group = meta.row_group(0)
            floats = (pa.float64(), pa.float32())
            decoded = max(group.num_rows * (4 + 8 * len(index.channels)), group.total_byte_size)
            lap_stats = group.column(0).statistics if group.num_columns else None
            if (
                meta.num_row_groups != 1
                or group.num_rows != rows
                or group.column(0).path_in_schema != LAP_COLUMN
                # the lap column's statistics name the lap: an index pointing elsewhere is not used
                or (rows and (lap_stats is None or not lap_stats.has_min_max or lap_stats.min != lap_number))
                or (rows and lap_stats is not None and lap_stats.max != lap_number)
                or decoded > self.max_lap_bytes
                or not all(c in schema.names and schema.field(c).type in floats for c in index.channels)
            ):
                return _WHOLE_FOOTER
            entry = LapIndexEntry(lap_number, found.row_group, rows, found.start_offset)
            return self._read_group(path, pf, index.channels, decimals, entry, 0)  # its only group
        except (ValueError, KeyError, pa.ArrowException):
            return _WHOLE_FOOTER
        finally:
            pf.close()

    # --- housekeeping -----------------------------------------------------------------

    def exists(self, session_id: int) -> bool:
        return self.path_for(session_id).is_file()

    def delete(self, session_id: int) -> bool:
        """Remove the session's file; True if there was one."""
        try:
            self.path_for(session_id).unlink()
        except FileNotFoundError:
            return False
        return True

    def session_ids(self) -> list[int]:
        """Ids of the sessions that have a file here (for start-up recovery), sorted."""
        if not self.folder.is_dir():
            return []
        ids = (p.stem for p in self.folder.glob("*.parquet"))
        return sorted(int(s) for s in ids if s.isdigit() and s == str(int(s)) and int(s) > 0)

    def temp_files(self) -> list[Path]:
        """Temp files of writes: running now, or killed before they could clean up."""
        return sorted(self.folder.glob(".*.parquet.*.tmp")) if self.folder.is_dir() else []

    def remove_stale_temp_files(self) -> tuple[list[tuple[Path, int]], list[Path]]:
        """Remove the temp files no live writer owns.

        Returns ``([(path, bytes freed)...], [paths left because a writer still owns them])``.
        A temp file is never a valid final file, so one whose writer is gone is only waste.
        """
        removed: list[tuple[Path, int]] = []
        kept: list[Path] = []
        for path in self.temp_files():
            freed = _remove_if_abandoned(path)
            if freed is None:
                kept.append(path)
            elif freed >= 0:
                removed.append((path, freed))
        return removed, kept
