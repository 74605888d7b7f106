"""Damaged copies of the real logger files, for the robustness tests and ``bench readers --fuzz``.

Each case is a real file truncated, with bytes flipped, or with a line duplicated or
deleted, drawn from a random generator seeded by the file name and the case count, so a
failing case is reproducible from its label.
"""

from __future__ import annotations

import importlib.util
import random
import signal
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from desktop_app.loggers import READERS, LoggerFileError, read_recording, sniff

#: a read still running after this long is interrupted and reported as a hang. It is a guard
#: against a test that never ends, not a speed bound: it is far above any real read even on a
#: busy machine, and how long the damaged copies take is printed by ``bench readers --fuzz``
HANG_LIMIT_S = 120.0


def reader_available(path: Path) -> bool:
    """Whether the reader module for this real file's format exists in this checkout.

    The six readers land in separate commits; a case whose reader is not there yet would
    fail with ModuleNotFoundError, which says nothing about robustness.
    """
    try:
        fmt = sniff(path)
    except LoggerFileError:
        return False
    return importlib.util.find_spec(f"desktop_app.loggers.{READERS[fmt]}") is not None


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def cases(data: bytes, name: str, count: int) -> Iterator[tuple[str, bytes]]:
    """``count`` damaged versions of ``data`` as (label, bytes)."""
    rng = random.Random(zlib.crc32(f"{name}:{count}".encode()))
    n = len(data)
    # fixed truncations first: empty, one byte, inside the header, mid-file, last bytes
    fixed = [0, n // 2, 1, min(n - 1, 200), n - 1]
    nfixed = min(len(fixed), max(2, count // 8))
    kinds = ["flip", "flip-many", "duplicate-line", "delete-line", "truncate"]
    for i in range(count):
        if i < nfixed:
            cut = max(0, fixed[i])
            yield f"truncate@{cut}", data[:cut]
            continue
        kind = kinds[(i - nfixed) % len(kinds)]
        if kind == "truncate":
            cut = rng.randrange(n)
            yield f"truncate@{cut}", data[:cut]
        elif kind in ("flip", "flip-many"):
            buf = bytearray(data)
            k = 1 if kind == "flip" else rng.choice((5, 50))
            where = sorted(rng.randrange(n) for _ in range(k))
            for pos in where:
                buf[pos] = rng.randrange(256)
            yield f"{kind}@{','.join(map(str, where[:5]))}", bytes(buf)
        else:
            lines = _lines(data)
            j = rng.randrange(len(lines))
            if kind == "duplicate-line":
                lines.insert(j, lines[j])
            else:
                del lines[j]
            yield f"{kind}@{j + 1}", b"".join(lines)


class TooSlow(Exception):
    """A read that overran :data:`TIME_LIMIT_S`."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt Python code that runs longer than ``seconds`` (main thread, POSIX)."""

    def expire(signum: int, frame: object) -> None:
        raise TooSlow(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_case(original: Path, data: bytes, folder: Path) -> tuple[str, str]:
    """Read one damaged copy. Returns (outcome, detail): read / rejected / crashed / hung."""
    target = folder / original.name
    target.write_bytes(data)
    for extra in original.parent.glob("*.dbc"):  # the CANedge log's DBC lies beside it
        (folder / extra.name).write_bytes(extra.read_bytes())
    try:
        with time_limit(HANG_LIMIT_S):
            rec = read_recording(target)
            rec.check()
    except LoggerFileError as exc:
        located = exc.line is not None or exc.offset is not None
        outcome, detail = "rejected", ("" if located else "unlocated: ") + str(exc)
    except TooSlow as exc:
        return "hung", str(exc)
    except Exception as exc:  # noqa: BLE001 - this is what the fuzz test looks for
        return "crashed", f"{type(exc).__name__}: {exc}"
    else:
        outcome, detail = "read", f"{rec.sample_count} rows, {len(rec.warnings)} warnings"
    return outcome, detail
