"""The ``.ldx`` sidecar MoTeC i2 writes beside an ``.ld`` log: beacons (lap boundaries) and details.

An ``.ldx`` is a small XML file (layout in docs/formats.md#motec-ldx-sidecar).
The lap boundaries are the ``Marker`` elements of the ``MarkerGroup`` named ``Beacons``,
their ``Time`` in microseconds from the start of the log; ``Details`` holds ``String``
elements (``Id``/``Value``: total laps, fastest time...). Nothing else is used.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .recording import LoggerFileError

#: an .ldx is a few kilobytes; anything far larger is not one (and is not parsed into memory)
MAX_BYTES = 16 * 1024 * 1024


@dataclass
class Ldx:
    """What an ``.ldx`` says: beacon times (s from the log's start, as written) and details."""

    path: Path
    beacons: list[float]
    details: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def sidecar(ld_path: Path) -> Path | None:
    """The ``.ldx`` beside an ``.ld`` (same name), if there is one."""
    for suffix in (".ldx", ".LDX", ".Ldx"):
        candidate = ld_path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def read(path: Path) -> Ldx:
    """Read an ``.ldx``; :class:`LoggerFileError` (naming the line) if it is not a usable one."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LoggerFileError(path, f"is {size} bytes: too large for a MoTeC .ldx (XML of a few KB)")
        data = path.read_bytes()
    except OSError as exc:
        raise LoggerFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    # an .ldx never declares a document type: refusing one keeps entity expansion out
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise LoggerFileError(path, "declares a DOCTYPE/ENTITY: not a MoTeC .ldx")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise LoggerFileError(path, f"is not well-formed XML (column {column}): {exc.msg}", line=line) from None
    if root.tag != "LDXFile":
        raise LoggerFileError(path, f"the root element is <{root.tag}>, not <LDXFile>: not a MoTeC .ldx", line=1)

    out = Ldx(path, [])
    groups = [g for g in root.iter("MarkerGroup") if g.get("Name", "").strip().lower() == "beacons"]
    for group in groups:
        for marker in group.iter("Marker"):
            text = marker.get("Time", "")
            try:
                micros = float(text)
            except ValueError:
                raise LoggerFileError(
                    path, f"beacon marker {marker.get('Name', '')!r} has Time {text!r}, not a number"
                ) from None
            if not math.isfinite(micros) or micros < 0:
                raise LoggerFileError(path, f"beacon marker {marker.get('Name', '')!r} has Time {text!r}")
            out.beacons.append(micros / 1e6)
    if any(b < a for a, b in zip(out.beacons, out.beacons[1:])):
        out.warnings.append(f"{path.name}: beacon markers are not in increasing order; sorted")
        out.beacons.sort()
    for details in root.iter("Details"):
        for item in details.iter("String"):
            key = item.get("Id", "").strip()
            value = item.get("Value", "").strip()
            if key and value:
                out.details[key] = value
    return out
