"""MDF channels read straight out of the records: the values asammdf's own ``select`` gives,
the other channels through ``select`` a bounded number at a time (docs/formats.md#mdf-reading)."""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from asammdf import MDF, Signal
from realfiles import logger_file

from desktop_app.loggers import mdf
from desktop_app.loggers.recording import Recording

CANAPE = "mf4/ASAP2_Demo_V171.mf4"
CANEDGE = "mf4/canedge_11111111_00000012_00000001.MF4"


def _asammdf_groups(path: Path) -> Iterator[tuple[np.ndarray, list[Any]]]:
    """Every group's timestamps and numeric signals as asammdf's ``select`` gives them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = MDF(path)
        try:
            groups: list[Any] = src.groups
            if all(any(ch.name.startswith("CAN_") for ch in g.channels) for g in groups if g.channel_group.cycles_nr):
                decoded = src.extract_bus_logging({"CAN": [(str(p), 0) for p in sorted(path.parent.glob("*.dbc"))]})
                src.close()
                src = decoded
            every: list[Any] = src.groups
            for gi, group in enumerate(every):
                wanted = [(None, gi, ci) for ci, ch in enumerate(group.channels) if ch.channel_type not in (2, 3)]
                if not wanted or not group.channel_group.cycles_nr:
                    continue
                signals = src.select(wanted)
                yield np.asarray(signals[0].timestamps, np.float64), signals
        finally:
            src.close()


def _assert_as_asammdf(rec: Recording, path: Path) -> int:
    """Every channel asammdf decodes to numbers has exactly its samples, at its times; returns
    how many float32 channels were compared. Standard channels are left out (their values are
    in canonical units)."""
    by_source: dict[str, list[Any]] = {}
    for ch in rec.channels.values():
        if not ch.standard:
            by_source.setdefault(ch.source_name, []).append(ch)
    start = min(float(t[0]) for t, _ in _asammdf_groups(path))
    float32 = 0
    compared = 0
    for stamps, signals in _asammdf_groups(path):
        at = np.searchsorted(rec.time, np.round(stamps - start, 6) - 1e-7)
        np.testing.assert_allclose(rec.time[at], stamps - start, atol=1e-6)
        for sig in signals:
            samples = np.asarray(sig.samples)
            if samples.dtype.kind not in "biuf" or sig.name not in by_source:
                continue
            # a repeated name: one of the channels so named holds exactly these samples here
            want = samples.astype(np.float64)
            assert any(np.array_equal(c.values[at], want, equal_nan=True) for c in by_source[sig.name]), sig.name
            float32 += samples.dtype == np.float32
            compared += 1
    # all but the value-to-text channels, which keep their raw numbers
    raw_numbers = sum("kept as its raw numbers" in w for w in rec.warnings)
    assert compared == sum(len(c) for c in by_source.values()) - raw_numbers
    return float32


def test_canape_channels_equal_asammdfs_select_float32_exactly() -> None:
    path = logger_file(CANAPE)
    rec = mdf.read(path)
    assert _assert_as_asammdf(rec, path) == 2  # FLOAT32.IDENTICAL and FLOAT32.IDENTICAL.DISCRETE
    f32 = rec.channels["ASAM.M.SCALAR.FLOAT32.IDENTICAL"].values
    ok = np.isfinite(f32)
    assert ok.sum() == 12402 and np.array_equal(f32[ok], f32[ok].astype(np.float32).astype(np.float64))


def test_canedge_decoded_channels_equal_asammdfs_select() -> None:
    path = logger_file(CANEDGE)
    rec = mdf.read(path)
    _assert_as_asammdf(rec, path)  # the decoded groups are asammdf's own: read through select
    assert np.nanmax(rec.channels["lat"].values) == pytest.approx(41.41, abs=0.01)


def _write(path: Path, rows: int, compression: Literal[0, 2] = 0) -> None:
    """A 100 Hz group of float32, scaled int16 and big-endian uint32 channels plus text, and
    a 10 Hz group on every 10th of its times."""
    t = np.arange(rows) / 100.0
    rng = np.random.default_rng(7)
    out = MDF(version="4.10")
    fast = [Signal(rng.normal(size=rows).astype(np.float32), t, name=f"f32_{i}", unit="bar") for i in range(20)]
    fast.append(
        Signal((np.arange(rows) % 300 - 150).astype(np.int16), t, name="scaled", conversion={"a": 0.25, "b": -3.0})
    )
    fast.append(Signal(np.arange(rows, dtype=">u4") * 7, t, name="motorola"))
    fast += [Signal(np.array([b"txt%02d" % i] * rows), t, name=f"text{i}", encoding="utf-8") for i in range(20)]
    out.append(fast)
    out.append([Signal(rng.normal(size=rows // 10), t[::10], name="slow")])
    out.save(path, overwrite=True, compression=compression)
    out.close()


@pytest.mark.parametrize("compression", [0, 2])  # plain DT blocks, transposed deflate (DZ)
def test_plain_channels_read_from_the_records_others_selected_in_bounded_chunks(
    tmp_path: Path, compression: Literal[0, 2], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mixed.mf4"
    _write(path, 5000, compression)
    calls: list[list[int]] = []
    select = MDF.select

    def spy(self: MDF, channels: list[tuple[None, int, int]], *args: Any, **kwargs: Any) -> Any:
        calls.append([ci for _, _, ci in channels])
        return select(self, channels, *args, **kwargs)

    monkeypatch.setattr(MDF, "select", spy)
    rec = mdf.read(path)
    monkeypatch.undo()
    # the 20 text channels (not numbers in the record) go through select, at most 16 a call;
    # the numeric ones never do
    assert sorted(len(c) for c in calls) == [4, 16]
    assert all(len(c) <= mdf.SELECT_CHUNK for c in calls)
    assert [ci for c in calls for ci in c] == list(range(23, 43))
    assert sum("holds text" in w for w in rec.warnings) == 20
    assert rec.sample_count == 5000 and len(rec.channels) == 23
    assert rec.channels["scaled"].values[:3].tolist() == [-40.5, -40.25, -40.0]  # raw -150 x 0.25 - 3
    assert rec.channels["motorola"].values[-1] == 4999 * 7
    assert rec.channels["f32_0"].unit == "bar"
    assert _assert_as_asammdf(rec, path) == 20
    # the slow group sits on every 10th row of the fast one's times, NaN in between
    slow = rec.channels["slow"].values
    assert np.flatnonzero(np.isfinite(slow)).tolist()[:3] == [0, 10, 20] and np.isnan(slow[1:10]).all()


def _repack(path: Path, fields: dict[str, tuple[int, int]]) -> None:
    """Give named channels of an MDF 4 file a bit offset and bit count (CN block fields), as a
    logger storing CAN signals in their message bytes writes them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = MDF(path)
        every: list[Any] = src.groups
        where = {ch.name: int(ch.address) for g in every for ch in g.channels if ch.name in fields}
        src.close()
    data = bytearray(path.read_bytes())
    for name, (bit_offset, bit_count) in fields.items():
        at = where[name]
        links = struct.unpack_from("<Q", data, at + 16)[0]
        params = at + 24 + 8 * links  # channel type, sync type, data type, bit offset, byte offset, bit count
        data[params + 3] = bit_offset
        struct.pack_into("<I", data, params + 8, bit_count)
    path.write_bytes(bytes(data))


def test_bit_fields_are_unpacked_as_asammdf_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "packed.mf4"
    rows = 4000
    t = np.arange(rows) / 100.0
    raw = np.arange(rows, dtype=np.uint32) * 40503 % 65536
    out = MDF(version="4.10")
    out.append(
        [
            Signal(raw.astype(">u4"), t, name="motorola20"),  # first: its 4 bytes lie inside the record
            Signal(raw.astype(np.int16), t, name="signed9"),
            Signal(raw.astype(np.uint16), t, name="unsigned5"),
            Signal(raw.astype(np.uint16), t, name="scaled7", conversion={"a": 0.5, "b": 1.0}),
        ]
    )
    out.save(path, overwrite=True)
    out.close()
    _repack(path, {"motorola20": (0, 20), "signed9": (2, 9), "unsigned5": (3, 5), "scaled7": (1, 7)})
    calls: list[int] = []
    select = MDF.select

    def spy(self: MDF, channels: list[tuple[None, int, int]], *args: Any, **kwargs: Any) -> Any:
        calls.append(len(channels))
        return select(self, channels, *args, **kwargs)

    monkeypatch.setattr(MDF, "select", spy)
    rec = mdf.read(path)
    monkeypatch.undo()
    assert calls == []  # all four unpacked from the records
    signed = rec.channels["signed9"].values
    assert signed.min() == -256 and signed.max() == 255  # 9 bits, two's complement
    np.testing.assert_array_equal(signed, ((raw.astype(np.int64) >> 2) & 0x1FF) - ((raw >> 10) & 1) * 512)
    np.testing.assert_array_equal(rec.channels["unsigned5"].values, (raw >> 3) & 0x1F)
    np.testing.assert_array_equal(rec.channels["scaled7"].values, ((raw >> 1) & 0x7F) * 0.5 + 1.0)
    assert _assert_as_asammdf(rec, path) == 0
