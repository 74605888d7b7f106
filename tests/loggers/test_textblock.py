"""The shared vectorised data-block parser (desktop_app/loggers/textblock.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.loggers import LoggerFileError
from desktop_app.loggers.textblock import parse_block, parse_file_block


def test_space_delimited_crlf_trailing_space_decimal_comma_and_short_last_row() -> None:
    data = b"011 035634,90 +3305,14 TRUE \r\n000 035635,00 -4380,10 false \r\n\r\n5 1 2 true \r\n7 1"
    block = parse_block(data, path="f.vbo", first_line=10, ncols=4, delimiter=" ", decimal_comma=True)
    assert block.row_count == 3
    assert block.values[1] is not None
    np.testing.assert_array_equal(block.values[1], [35634.90, 35635.00, 1.0])
    np.testing.assert_array_equal(block.values[3], [1.0, 0.0, 1.0])
    assert block.dropped_last_row
    assert any("line 14" in w and "dropped" in w for w in block.warnings)
    assert block.line_of(2) == 13  # the blank line 12 is not a row


def test_padded_tab_fields_without_final_newline() -> None:
    block = parse_block(
        "          0.000\t      10073.340\r\n          0.010\t          ",
        path="f.txt",
        first_line=7,
        ncols=2,
        delimiter="\t",
    )
    assert block.values[0] is not None and block.values[1] is not None
    np.testing.assert_array_equal(block.values[0], [0.0, 0.01])
    assert block.values[1][0] == 10073.34 and np.isnan(block.values[1][1])


def test_quoted_comma_decimals_and_spreadsheet_padding() -> None:
    block = parse_block(
        '"1,5","2",,\n"3","x",,\n', path="f.csv", first_line=3, ncols=2, delimiter=",", decimal_comma=True
    )
    assert block.values[0] is not None and block.values[1] is not None
    np.testing.assert_array_equal(block.values[0], [1.5, 3.0])
    assert block.values[1][0] == 2.0 and np.isnan(block.values[1][1])
    assert any("line 4" in w and "'x'" in w for w in block.warnings)


def test_text_column_is_kept_as_codes_with_labels() -> None:
    data = b"1,b'3D-fix',TRUE\n2, No Error ,false\n3,,True\n4,b'3D-fix',\n5,waitCam,FALSE\n"
    block = parse_block(data, path="f.csv", first_line=1, ncols=3, delimiter=",")
    assert block.row_count == 5
    # codes in order of first appearance, NaN where empty; labels keep their inner spaces
    assert block.labels == {1: ("b'3D-fix'", "No Error", "waitCam")}
    np.testing.assert_array_equal(block.values[1], [0.0, 1.0, np.nan, 0.0, 2.0])
    assert block.text == {1: "b'3D-fix'"}
    # booleans are numbers: 1/0, no labels
    np.testing.assert_array_equal(block.values[2], [1.0, 0.0, 1.0, np.nan, 0.0])
    assert 2 not in block.labels


def test_text_found_after_the_head_and_across_chunks_is_read_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a column empty in the head turns to text deep in the block, another holds numbers
    # with one odd cell: both are found without reading the block again per column
    from desktop_app.loggers import textblock
    from desktop_app.loggers.textsource import BlockSource

    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", 0)
    monkeypatch.setattr(BlockSource, "CHUNK", 4096)
    reads: list[int] = []
    original = textblock._Options.read

    def counting(self: object, chunk: object, schema: dict[str, object]) -> object:
        reads.append(len(schema))
        return original(self, chunk, schema)  # type: ignore[arg-type]

    monkeypatch.setattr(textblock._Options, "read", counting)
    rows = [f"{i}\t{i * 0.5}\t" for i in range(3000)]
    for i in range(2000, 3000):
        rows[i] += "running" if i % 3 else "timeout"
    rows[2500] = "2500\toops\ttimeout"
    p = tmp_path / "late.txt"
    p.write_bytes(("\n".join(rows) + "\n").encode())
    block = parse_file_block(p, 0, first_line=1, ncols=3, delimiter="\t", names=["t", "v", "s"])
    assert block.row_count == 3000
    t, v, s = block.values
    assert t is not None and v is not None and s is not None
    np.testing.assert_array_equal(t, np.arange(3000.0))
    assert np.isnan(v[2500]) and v[2999] == 1499.5
    assert block.labels == {2: ("running", "timeout")}
    assert np.isnan(s[1999]) and s[2000] == 0.0 and s[2001] == 1.0 and s[2500] == 1.0
    assert any("line 2501" in w and "'oops'" in w for w in block.warnings)
    chunks = -(-p.stat().st_size // 4096)
    # one head read, one read per chunk, and a second read only for the chunks that met text
    assert len(reads) <= 1 + chunks + 3


@pytest.mark.parametrize(
    ("data", "line", "what"),
    [
        ("1 2 3\n1 2\n1 2 3\n", 21, "2 values, expected 3"),
        ("1 2 3\n1 2 3\n1 2 3 4\n", 22, "4 values, expected 3"),
    ],
)
def test_wrong_value_count_names_file_and_line(data: str, line: int, what: str) -> None:
    with pytest.raises(LoggerFileError) as info:
        parse_block(data, path="bad.vbo", first_line=20, ncols=3, delimiter=" ")
    assert info.value.line == line
    assert "bad.vbo" in str(info.value) and what in str(info.value)


def test_short_last_row_is_an_error_when_not_allowed() -> None:
    with pytest.raises(LoggerFileError) as info:
        parse_block("1 2\n3", path="f", first_line=5, ncols=2, delimiter=" ", allow_short_last_row=False)
    assert info.value.line == 6


@pytest.mark.parametrize("whole_max", [1 << 24, 0], ids=["read-whole", "streamed"])
def test_file_block_from_an_offset_with_lines_across_blank_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole_max: int
) -> None:
    from desktop_app.loggers import textblock

    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", whole_max)
    head = b"header line\n[data]\n"
    rows = b"".join(b"%d %d.5\n" % (i, i) for i in range(50_000))
    p = tmp_path / "big.vbo"
    p.write_bytes(head + b"\n" + rows + b"\n\n7 x\n")
    block = parse_file_block(p, len(head), first_line=3, ncols=2, delimiter=" ")
    assert block.row_count == 50_001
    assert block.values[0] is not None and block.values[1] is not None
    assert block.values[0][49_999] == 49_999.0 and block.values[1][1] == 1.5
    assert np.isnan(block.values[1][-1])
    # row 0 is on line 4 (line 3 is blank); two blank lines, then the last row on line 50,006
    assert block.line_of(0) == 4 and block.line_of(50_000) == 50_006
    assert any("line 50006" in w and "'x'" in w for w in block.warnings)


def test_file_block_wrong_row_is_reported_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(b"# c\nt\tv\n0.0\t1\n0.1\t2\t3\n")
    with pytest.raises(LoggerFileError) as info:
        parse_file_block(p, 8, first_line=3, ncols=2, delimiter="\t")
    assert info.value.line == 4


def test_bad_row_with_a_latin1_byte_is_reported_not_lost() -> None:
    # pyarrow builds its bad-row report as UTF-8 text: a stray 0xB0 must not break that
    with pytest.raises(LoggerFileError) as info:
        parse_block(b"1 2\n3 4 \xb0C\n5 6\n", path="f", first_line=1, ncols=2, delimiter=" ")
    assert info.value.line == 2 and "°C" in str(info.value)


def test_padding_is_removed_across_stream_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.loggers.textsource import BlockSource

    monkeypatch.setattr(BlockSource, "CHUNK", 37)  # chunk ends fall inside lines
    monkeypatch.setattr(BlockSource, "IN_MEMORY_MAX", 0)  # stream, as for a large block
    rows = [f"   {i / 100:10.3f}\t {i * 7:12.3f}" for i in range(2000)]
    p = tmp_path / "padded.txt"
    p.write_bytes(b"names\r\n" + "\r\n".join(rows + ["      x   \t   1"]).encode())
    block = parse_file_block(p, 7, first_line=2, ncols=2, delimiter="\t")
    assert block.row_count == 2001
    assert block.values[0] is not None and block.values[1] is not None
    np.testing.assert_allclose(block.values[0][:2000], np.arange(2000) / 100)
    np.testing.assert_allclose(block.values[1][:2000], np.arange(2000) * 7.0)
    assert any("line 2002" in w and "'x'" in w for w in block.warnings)


def test_streamed_chunks_keep_values_text_cells_and_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a large block is parsed in line-aligned chunks, each by the threaded read_csv: a
    # non-numeric cell or a wrong row deep in a later chunk must be found as in one piece
    from desktop_app.loggers import textblock
    from desktop_app.loggers.textsource import BlockSource

    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", 0)
    monkeypatch.setattr(BlockSource, "CHUNK", 100)  # chunk ends fall inside lines
    rows = [f"{i},{i * 0.5}," + ("" if i % 7 else "3") for i in range(3000)]
    rows[2500] = "2500,oops,1"
    p = tmp_path / "chunks.csv"
    p.write_bytes(b"t,v,w\n" + "\n".join(rows[:1000] + [""] + rows[1000:]).encode() + b"\n")
    block = parse_file_block(p, 6, first_line=2, ncols=3, delimiter=",", names=["t", "v", "w"])
    assert block.row_count == 3000
    t, v, w = block.values
    assert t is not None and v is not None and w is not None
    np.testing.assert_array_equal(t, np.arange(3000.0))
    assert v[2499] == 1249.5 and np.isnan(v[2500]) and v[2999] == 1499.5
    assert w[0] == 3.0 and np.isnan(w[1]) and w[2996] == 3.0
    # row 2500 is on line 2 + 2500 + 1 (the blank line after row 999)
    assert any("line 2503" in msg and "'oops'" in msg for msg in block.warnings)
    p.write_bytes(b"t,v\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(3000)) + b"5,6,7\n9,9\n")
    with pytest.raises(LoggerFileError) as info:
        parse_file_block(p, 4, first_line=2, ncols=2, delimiter=",")
    assert info.value.line == 3002 and "3 values, expected 2" in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "aim_csv/aim_format_example.csv",
        "motec_csv/blakelyauto.csv",
        "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv",
        "racechrono_csv/Short_RaceChrono_Offical_App_Data.csv",
        "vbo/racechrono_2023Rd3_1.vbo",
        "vbo/25IR05_RdAm_FP1_Run05_TL.vbo",
        "bosch_windarab_txt/sim_data.txt",
    ],
)
def test_real_text_files_read_the_same_in_small_pieces(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the CSV readers read their header from a growing head of the file, and every reader
    # streams its data block in chunks (padding removed per chunk, VBO positions converted
    # in place on writable columns): tiny pieces must give exactly the one-piece result
    from realfiles import logger_file

    from desktop_app.loggers import read_recording, textblock
    from desktop_app.loggers.csvmeta import FileHead
    from desktop_app.loggers.textsource import BlockSource

    path = logger_file(name)
    whole = read_recording(path)
    monkeypatch.setattr(FileHead, "STEP", 50)
    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", 0)
    monkeypatch.setattr(BlockSource, "CHUNK", 4096)
    monkeypatch.setattr(BlockSource, "IN_MEMORY_MAX", 0)
    pieces = read_recording(path)
    assert pieces.warnings == whole.warnings and pieces.metadata == whole.metadata
    np.testing.assert_array_equal(pieces.time, whole.time)
    assert list(pieces.channels) == list(whole.channels)
    for key, ch in whole.channels.items():
        np.testing.assert_array_equal(pieces.channels[key].values, ch.values)


def test_whitespace_only_file_longer_than_one_head_step_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.loggers import aim
    from desktop_app.loggers.csvmeta import FileHead

    monkeypatch.setattr(FileHead, "STEP", 16)
    p = tmp_path / "blank.csv"
    p.write_bytes(b"  \r\n" * 100)
    with pytest.raises(LoggerFileError, match=r"blank\.csv.*the file is empty"):
        aim.read(p)


@pytest.mark.parametrize("padded", [False, True], ids=["plain", "padded"])
def test_latin1_byte_and_long_line_in_a_later_chunk_read_as_in_one_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, padded: bool
) -> None:
    # chunked blocks are checked for UTF-8 chunk by chunk; a cp1252 byte deep in the file
    # makes the block transcoded and read again, with the same result as read whole
    from desktop_app.loggers import textblock
    from desktop_app.loggers.textsource import BlockSource

    pad = "  " if padded else ""
    rows = [f"{pad}{i}\t{pad}{i * 2}\tok" for i in range(400)]
    rows[300] = f"300\t600\t{'long' * 40}"  # a line longer than a chunk
    data = ("\n".join(rows) + "\n").encode().replace(b"\t600\t", b"\t600\t\xb0C ")
    p = tmp_path / "latin1.txt"
    p.write_bytes(b"t\tv\ts\n" + data)
    whole = parse_file_block(p, 6, first_line=2, ncols=3, delimiter="\t")
    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", 0)
    monkeypatch.setattr(BlockSource, "CHUNK", 64)
    monkeypatch.setattr(BlockSource, "IN_MEMORY_MAX", 0)
    pieces = parse_file_block(p, 6, first_line=2, ncols=3, delimiter="\t")
    assert pieces.row_count == whole.row_count == 400
    for a, b in zip(pieces.values[:2], whole.values[:2], strict=True):
        assert a is not None and b is not None
        np.testing.assert_array_equal(a, b)
    assert pieces.values[1] is not None and pieces.values[1][299] == 598.0
    assert pieces.text == whole.text == {2: "ok"}
    assert pieces.labels == whole.labels == {2: ("ok", "°C " + "long" * 40)}
    assert pieces.warnings == whole.warnings


_PLAIN_CASES = [
    # (data, delimiter, decimal_comma, ncols, taken by the numpy path)
    (b"1 2.5 -3\n4 +5.25 6e-3\n", " ", False, 3, True),
    (b"011 035634,90 +3305,14 \r\n000 035635,00 -4380,10 \r\n", " ", True, 3, True),
    (b"0.0\t1.5\t\n0.1\t1.75\t\n0.2\t2\t", "\t", False, 2, True),
    (b"1,2\n3,4\n5,6", ",", False, 2, True),
    (b"1;2,5\n3;4,75\n", ";", True, 2, True),
    # not plain numbers in complete rows: left to polars, with the same result
    (b"1,2\n\n3,4\n", ",", False, 2, False),
    (b"1,2\n3,\n", ",", False, 2, False),
    (b"1,nan\n3,4\n", ",", False, 2, False),
    (b"1 2 3\n4 5\n", " ", False, 3, False),
    (b"1 2\n3 4 5\n", " ", False, 2, False),
    (b"1,2\n3,1e999\n", ",", False, 2, False),
]


@pytest.mark.parametrize(("data", "delimiter", "comma", "ncols", "plain"), _PLAIN_CASES)
def test_small_plain_blocks_are_parsed_by_numpy_as_polars_parses_them(
    monkeypatch: pytest.MonkeyPatch, data: bytes, delimiter: str, comma: bool, ncols: int, plain: bool
) -> None:
    from desktop_app.loggers import textblock
    from desktop_app.loggers.textsource import BlockSource

    def outcome() -> tuple[int, list[list[float]], list[str], bool, list[int]] | str:
        try:
            block = parse_block(data, path="f", first_line=3, ncols=ncols, delimiter=delimiter, decimal_comma=comma)
        except LoggerFileError as exc:
            return str(exc)
        values = [[float(x) for x in v] if v is not None else [] for v in block.values]
        return block.row_count, values, block.warnings, block.dropped_last_row, [block.line_of(r) for r in range(2)]

    taken: list[bool] = []
    original = textblock._plain_block

    def spy(source: BlockSource, opts: textblock._Options) -> textblock.Block | None:
        block = original(source, opts)
        taken.append(block is not None)
        return block

    monkeypatch.setattr(textblock, "_plain_block", spy)
    fast = outcome()
    assert taken == [plain]
    monkeypatch.setattr(textblock, "_PLAIN_MAX", -1)  # polars for every block
    slow = outcome()
    assert taken == [plain, False]
    assert repr(fast) == repr(slow)  # repr: NaN compares equal to NaN, -0.0 differs from 0.0


def test_a_small_real_vbo_is_parsed_without_polars(monkeypatch: pytest.MonkeyPatch) -> None:
    from realfiles import logger_file

    from desktop_app.loggers import read_recording, textblock

    def no_polars(self: object, chunk: object, schema: object) -> object:
        raise AssertionError("polars read_csv called")

    monkeypatch.setattr(textblock._Options, "read", no_polars)
    rec = read_recording(logger_file("vbo/20210620_035615.vbo"))
    assert rec.sample_count == 2
    np.testing.assert_allclose(rec.time, [0.0, 0.1])
    # +3305,14092000 minutes north, -4380,10890000 minutes west-positive (decimal commas)
    assert rec.channels["lat"].values[0] == pytest.approx(3305.14092 / 60)
    assert rec.channels["long"].values[1] == pytest.approx(4380.10891 / 60)
    np.testing.assert_array_equal(rec.channels["GyroX"].values, [-0.42, -0.02])


@pytest.mark.parametrize("chunk", [64, 4096])
def test_line_numbers_hold_across_blank_lines_at_chunk_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    from desktop_app.loggers import textblock
    from desktop_app.loggers.textsource import BlockSource

    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", 0)
    monkeypatch.setattr(BlockSource, "CHUNK", chunk)  # many chunks start on a blank line
    rng = np.random.default_rng(7)
    lines: list[str] = []
    truth: list[int] = []  # the file line (1-based) of each row
    first = 2  # the block starts on line 2, after the names
    for i in range(2000):
        for _ in range(int(rng.integers(0, 3)) if i % 5 == 0 else 0):
            lines.append("")
        truth.append(first + len(lines))
        lines.append(f"{i},{i * 0.25}" if i != 1700 else f"{i},oops")
    p = tmp_path / "blanks.csv"
    p.write_bytes(b"t,v\n" + "\n".join(lines).encode() + b"\n")
    block = parse_file_block(p, 4, first_line=first, ncols=2, delimiter=",", names=["t", "v"])
    assert block.row_count == 2000
    assert [block.line_of(r) for r in range(2000)] == truth
    # a text cell in a number column is reported at its own line
    assert any(f"line {truth[1700]}:" in w and "'oops'" in w for w in block.warnings), block.warnings


def test_a_block_without_blank_lines_gives_line_numbers_without_reading_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.loggers import textblock
    from desktop_app.loggers.textsource import BlockSource

    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", 0)
    monkeypatch.setattr(BlockSource, "CHUNK", 4096)
    p = tmp_path / "plain.csv"
    p.write_bytes(b"t,v\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(5000)) + b"5000,5000")
    block = parse_file_block(p, 4, first_line=2, ncols=2, delimiter=",")

    def no_second_pass(self: BlockSource) -> object:
        raise AssertionError("the bytes were read again to count lines")

    monkeypatch.setattr(BlockSource, "_raw_chunks", no_second_pass)
    assert block.row_count == 5001
    assert block.line_of(0) == 2 and block.line_of(5000) == 5002


def test_a_wide_block_streams_in_longer_chunks_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.loggers import textblock
    from desktop_app.loggers.textsource import BlockSource

    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", 0)
    monkeypatch.setattr(textblock, "_PLAIN_MAX", 0)  # the polars path, in chunks
    monkeypatch.setattr(BlockSource, "CHUNK", 4096)
    seen: list[int] = []
    real = textblock._read_chunk

    def spy(chunk: bytes, *args: object) -> None:
        seen.append(len(chunk))
        real(chunk, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(textblock, "_read_chunk", spy)
    rng = np.random.default_rng(3)
    for fields in (8, 256):
        values = np.round(rng.normal(0, 100, (400, fields)), 3)
        p = tmp_path / f"wide{fields}.csv"
        p.write_bytes(b"".join((",".join(f"{v:.3f}" for v in row) + "\n").encode() for row in values))
        seen.clear()
        block = parse_file_block(p, 0, first_line=1, ncols=fields, delimiter=",")
        widest = 4096 * min(max(fields // textblock._FIELDS_PER_CHUNK, 1), textblock._WIDEST_CHUNK)
        assert max(seen) <= widest and (fields < 64 or max(seen) > 4096), (fields, max(seen))
        np.testing.assert_array_equal(np.array(block.values).T, values)
