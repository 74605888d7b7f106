"""What every sub-command does at its edges: refuse inputs that are not files, keep stdout
for the command's own output, and survive a closed pipe."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def not_a_file(name: str) -> str | None:
    """Why ``name`` cannot be read as a logger file up front, or None.

    A FIFO or a device would block the reader or never end, so it is refused before it is
    opened; a missing file is left to the reader's own error.
    """
    if not name.strip():
        return "an empty file name"
    if "\x00" in name:
        return f"{name!r}: a file name cannot contain a NUL character"
    try:
        st = os.stat(name)
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(st.st_mode):
        return None
    kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
    return f"{name}: is {kind}, not a logger file"


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send whatever is printed meanwhile (Python ``print`` and writes to fd 1 by native
    code alike) to stderr, so that a ``--json`` stdout stays one JSON document."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (a GUI launcher): only Python's stdout can be redirected
        with redirect_stdout(sys.stderr):
            yield
        return
    try:
        os.dup2(2, 1)
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def tolerant_streams() -> None:
    """Print text that is not valid Unicode (a file name that is not UTF-8) escaped
    instead of failing with ``UnicodeEncodeError``."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def quiet_broken_pipe() -> None:
    """After stdout's reader went away (``laptrace sessions | head``): point fd 1 at the
    null device so that the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def is_utf8_name(name: str) -> bool:
    try:
        os.fsencode(name).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@contextmanager
def utf8_path(name: str) -> Iterator[str]:
    """A path to the file ``name`` that every library can open.

    Some readers hand the path to native code that takes UTF-8 only; a POSIX file name
    may be any bytes. Such a file is read through a symlink with a UTF-8 name in a
    temporary folder (removed after); the file itself is neither copied nor changed.
    """
    if is_utf8_name(name) or os.name == "nt":
        yield name
        return
    import tempfile
    from pathlib import Path

    suffix = "".join(ch for ch in Path(name).suffix if ch.isascii() and ch.isalnum())
    with tempfile.TemporaryDirectory(prefix="laptrace-name-") as folder:
        link = os.path.join(folder, "input" + (f".{suffix}" if suffix else ""))
        os.symlink(os.path.abspath(name), link)
        yield link


def display_name(name: str) -> str:
    """``name`` as Unicode text (bytes that are not UTF-8 become U+FFFD)."""
    return os.fsencode(name).decode("utf-8", "replace")


#: characters of one error message: a huge argument quoted back is cut in the middle
LONGEST_MESSAGE = 1000


def shorten(message: str) -> str:
    """``message`` cut in the middle if it is very long, keeping its start and its reason."""
    if len(message) <= LONGEST_MESSAGE:
        return message
    half = LONGEST_MESSAGE // 2
    return f"{message[:half]} …[{len(message) - LONGEST_MESSAGE} characters]… {message[-half:]}"
