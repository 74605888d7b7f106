"""Cheap checks of packaging/: the spec's inputs exist, its trimming keeps what the app loads,
and the per-OS file associations agree with packaging/doctypes.py and with real files.

The full build (PyInstaller, .deb, install) is not part of the suite: it is
``bash packaging/test_deb.sh`` (see the README).
"""

from __future__ import annotations

import codecs
import importlib
import importlib.util
import re
import struct
import sys
import types
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from realfiles import LOGGERS, REPO, all_logger_files

PACKAGING = REPO / "packaging"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def _load(name: str, path: Path) -> types.ModuleType:
    # packaging/ is not a package (its name is taken by the PyPI "packaging"): load by path
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


doctypes = _load("laptrace_doctypes", PACKAGING / "doctypes.py")


# --- the spec, executed with PyInstaller's build steps recorded instead of run -------------


@dataclass
class Recorded:
    """What the spec handed to Analysis, EXE, COLLECT and BUNDLE."""

    analysis: dict[str, Any] = field(default_factory=dict)
    exes: list[dict[str, Any]] = field(default_factory=list)
    bundle: dict[str, Any] | None = None
    binaries: list[tuple[str, str, str]] = field(default_factory=list)
    datas: list[tuple[str, str, str]] = field(default_factory=list)


def run_spec(
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    binaries: list[tuple[str, str, str]] | None = None,
    datas: list[tuple[str, str, str]] | None = None,
    needs: dict[str, list[str]] | None = None,
) -> Recorded:
    """Execute packaging/laptrace.spec as if on ``platform`` with a fake analysis result.

    ``needs`` maps a binary's source path to the libraries it links (the fake ``ldd``).
    """
    rec = Recorded()
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package, filter=None: [f"{package}.stub"]  # type: ignore[attr-defined]
    bindepend = types.ModuleType("PyInstaller.depend.bindepend")
    bindepend.get_imports = lambda src: [(n, None) for n in (needs or {}).get(src, [])]  # type: ignore[attr-defined]
    for name, module in {
        "PyInstaller": types.ModuleType("PyInstaller"),
        "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
        "PyInstaller.utils.hooks": hooks,
        "PyInstaller.depend": types.ModuleType("PyInstaller.depend"),
        "PyInstaller.depend.bindepend": bindepend,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)

    class Analysis:
        def __init__(self, scripts: list[str], **kwargs: Any) -> None:
            rec.analysis = {"scripts": scripts, **kwargs}
            self.binaries = list(binaries or [])
            self.datas = list(datas or []) + [(dest, src, "DATA") for src, dest in kwargs["datas"]]
            self.pure: list[Any] = []
            self.scripts: list[Any] = []

    def exe(*_args: Any, **kwargs: Any) -> dict[str, Any]:
        rec.exes.append(kwargs)
        return kwargs

    def bundle(*_args: Any, **kwargs: Any) -> None:
        rec.bundle = kwargs

    namespace: dict[str, Any] = {
        "SPECPATH": str(PACKAGING),
        "Analysis": Analysis,
        "PYZ": lambda *a, **k: None,
        "EXE": exe,
        "COLLECT": lambda *a, **k: None,
        "BUNDLE": bundle,
    }
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "path", list(sys.path))
    code = compile((PACKAGING / "laptrace.spec").read_text(encoding="utf-8"), "laptrace.spec", "exec")
    exec(code, namespace)
    analysis = namespace["a"]
    rec.binaries, rec.datas = analysis.binaries, analysis.datas
    return rec


def test_every_data_file_the_spec_bundles_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = run_spec(monkeypatch, "linux")
    sources = {Path(src): dest for src, dest in rec.analysis["datas"]}
    assert all(path.exists() for path in sources), [p for p in sources if not p.exists()]
    assert Path(rec.analysis["scripts"][0]).is_file()
    dests = set(sources.values())
    # the self-test's sample, the window icon, and Alembic's env.py and revisions
    assert "data/samples" in dests and "resources" in dests
    migrations = [src for src, dest in sources.items() if dest.startswith("storage/db/migrations")]
    names = {p.name for p in migrations}
    assert {"env.py", "script.py.mako"} <= names
    assert any(p.parent.name == "versions" for p in migrations)
    # every revision file in the checkout is bundled
    versions = REPO / "storage" / "db" / "migrations" / "versions"
    assert {p for p in versions.glob("*.py")} <= set(migrations)


def test_explicit_hidden_imports_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = run_spec(monkeypatch, "linux")
    explicit = [m for m in rec.analysis["hiddenimports"] if not m.endswith(".stub")]
    assert "sqlalchemy.dialects.postgresql.psycopg" in explicit
    monkeypatch.undo()  # the real PyInstaller-free import system again
    for name in explicit:
        assert importlib.util.find_spec(name) is not None, name


def _entry(dest: str, kind: str = "BINARY") -> tuple[str, str, str]:
    return (dest, "/src/" + dest, kind)


def test_trimming_keeps_what_the_app_loads_and_drops_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = "PySide6/Qt/plugins/"
    kept = [
        plugins + "platforms/libqxcb.so",
        plugins + "platforms/libqoffscreen.so",
        plugins + "imageformats/libqsvg.so",
        plugins + "iconengines/libqsvgicon.so",
        plugins + "platformthemes/libqxdgdesktopportal.so",
        "pyarrow/libarrow.so.2600",
        "pyarrow/libparquet.so.2600",
        "libxcb.so.1",
        "PySide6/Qt/lib/libQt6OpenGL.so.6",
    ]
    dropped = [
        plugins + "platforms/libqeglfs.so",
        plugins + "platforms/libqwayland.so",
        plugins + "imageformats/libqtiff.so",
        plugins + "platformthemes/libqgtk3.so",
        plugins + "sqldrivers/libqsqlite.so",
        plugins + "tls/libqopensslbackend.so",
        "pyarrow/libarrow_flight.so.2600",
        "pyarrow/libarrow_s3.so.2600",
        "pyarrow/libarrow_python.so",
        "pyarrow/libarrow_python.so.2600.1.0",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "libgtk-3.so.0",  # only the gtk3 theme needs GTK
    ]
    binaries = [_entry(d) for d in kept + dropped]
    binaries.append(_entry("pyarrow/lib.cpython-311-x86_64-linux-gnu.so", "EXTENSION"))
    needs = {
        "/src/" + plugins + "platformthemes/libqgtk3.so": ["libgtk-3.so.0", "libxcb.so.1"],
        "/src/" + plugins + "platforms/libqxcb.so": ["libxcb.so.1"],
    }
    datas = [
        _entry("pyarrow/include/arrow/api.h", "DATA"),
        _entry("PySide6/Qt/translations/qtbase_de.qm", "DATA"),
        _entry("pyarrow/tests/test_array.py", "DATA"),
        _entry("pyqtgraph/icons/auto.png", "DATA"),
        ("libarrow.so.2600", "pyarrow/libarrow.so.2600", "SYMLINK"),
        ("libarrow_flight.so.2600", "pyarrow/libarrow_flight.so.2600", "SYMLINK"),
    ]
    rec = run_spec(monkeypatch, "linux", binaries, datas, needs)
    got = {dest for dest, _src, _kind in rec.binaries}
    assert set(kept) <= got
    assert not set(dropped) & got, set(dropped) & got
    data = {dest for dest, _src, _kind in rec.datas}
    assert "pyqtgraph/icons/auto.png" in data and "libarrow.so.2600" in data
    assert (
        not {
            "pyarrow/include/arrow/api.h",
            "PySide6/Qt/translations/qtbase_de.qm",
            "pyarrow/tests/test_array.py",
            "libarrow_flight.so.2600",
        }
        & data
    )


@pytest.mark.parametrize(
    ("platform", "platform_plugin"),
    [("linux", "libqxcb.so"), ("win32", "qwindows.dll"), ("darwin", "libqcocoa.dylib")],
)
def test_each_os_keeps_its_own_platform_plugin(
    monkeypatch: pytest.MonkeyPatch, platform: str, platform_plugin: str
) -> None:
    plugins = "PySide6/Qt/plugins/platforms/"
    names = ["libqxcb.so", "qwindows.dll", "libqcocoa.dylib"]
    rec = run_spec(monkeypatch, platform, [_entry(plugins + n) for n in names])
    assert {dest for dest, _src, _kind in rec.binaries} == {plugins + platform_plugin}


def test_windows_has_a_console_twin_for_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = run_spec(monkeypatch, "win32")
    assert [(e["name"], e["console"]) for e in rec.exes] == [("laptrace", False), ("laptrace-cli", True)]


def test_macos_bundle_declares_the_logger_document_types(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = run_spec(monkeypatch, "darwin")
    assert rec.bundle is not None
    plist = rec.bundle["info_plist"]
    declared = {ext for t in plist["CFBundleDocumentTypes"] for ext in t["CFBundleTypeExtensions"]}
    assert {"vbo", "mf4", "mdf", "xrk", "xrz", "drk", "ld", "csv"} <= declared
    owned = {t["LSItemContentTypes"][0]: t["LSHandlerRank"] for t in plist["CFBundleDocumentTypes"]}
    assert owned["org.laptrace.vbo"] == "Owner"
    assert owned["org.laptrace.aim-xrk"] == owned["org.laptrace.motec-ld"] == "Owner"
    assert owned["public.comma-separated-values-text"] == "Alternate"
    imported = {t["UTTypeIdentifier"] for t in plist["UTImportedTypeDeclarations"]}
    assert imported == {"org.laptrace.vbo", "org.laptrace.mdf", "org.laptrace.aim-xrk", "org.laptrace.motec-ld"}
    assert all(e["console"] is False for e in rec.exes)


def test_linux_and_other_os_builds_without_a_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_spec(monkeypatch, "linux").bundle is None


# --- desktop entry, MIME types and Windows associations ------------------------------------


def _mime_types() -> dict[str, ET.Element]:
    root = ET.parse(REPO / "resources" / "mime" / "laptrace.xml").getroot()
    return {t.attrib["type"]: t for t in root.iter(MIME_NS + "mime-type")}


def _desktop_entry() -> dict[str, str]:
    lines = (REPO / "resources" / "laptrace.desktop").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


def test_desktop_entry_lists_every_type_and_opens_files() -> None:
    entry = _desktop_entry()
    assert entry["Type"] == "Application" and entry["Icon"] == "laptrace"
    assert entry["Exec"] == "laptrace %F"  # several files at once, as paths
    listed = [m for m in entry["MimeType"].split(";") if m]
    assert listed == doctypes.desktop_mime_types()
    # every type it lists is either ours (in the XML) or a standard one
    assert set(listed) - set(_mime_types()) == {"text/csv"}


def test_mime_xml_globs_match_the_owned_extensions() -> None:
    types_ = _mime_types()
    for doc in doctypes.DOCUMENT_TYPES:
        if not doc.owned:
            continue
        globs = {g.attrib["pattern"] for g in types_[doc.mime].iter(MIME_NS + "glob")}
        assert globs == {f"*.{ext}" for ext in doc.extensions}, doc.mime


def _magic_type(head: bytes) -> str | None:
    """The MIME type whose magic matches ``head`` (string matches at offset 0, as written)."""
    for name, element in _mime_types().items():
        for match in element.iter(MIME_NS + "match"):
            assert match.attrib["type"] == "string" and match.attrib["offset"] == "0"
            # shared-mime-info reads C escapes (\x40) in string values
            value, _ = codecs.escape_decode(match.attrib["value"].encode("utf-8"))
            if head.startswith(value):
                return name
    return None


EXPECTED_TYPE = {
    "vbo": "text/x-vbo",
    "racechrono_csv": "text/x-racechrono-csv",
    "aim_csv": "text/x-aim-csv",
    "motec_csv": "text/x-motec-csv",
    "bosch_windarab_txt": "text/x-windarab-ascii",
    "mf4": "application/x-asam-mdf",
    "aim_xrk": "application/x-aim-xrk",
    "motec_ld": "application/x-motec-ld",
}


@pytest.mark.parametrize("path", all_logger_files(), ids=lambda p: p.name)
def test_every_real_logger_file_is_recognised_by_its_magic(path: Path) -> None:
    folder = path.relative_to(LOGGERS).parts[0]
    assert _magic_type(path.read_bytes()[:64]) == EXPECTED_TYPE[folder]


def test_inno_setup_associates_the_owned_extensions() -> None:
    iss = (PACKAGING / "windows" / "laptrace.iss").read_text(encoding="utf-8")
    for doc in doctypes.DOCUMENT_TYPES:
        for ext in doc.extensions:
            assert (
                f'Software\\Classes\\Applications\\{{#AppExe}}\\SupportedTypes"; ValueType: string; ValueName: ".{ext}"'
                in iss
            )
            default = re.search(rf'Subkey: "Software\\Classes\\.{ext}"; .*ValueName: ""; ValueData: "([^"]+)"', iss)
            if doc.owned:
                assert default is not None, ext
            else:
                assert default is None, f".{ext} must only be offered, not taken over"
                assert f"Software\\Classes\\.{ext}\\OpenWithProgids" in iss


# --- build.py helpers -----------------------------------------------------------------------


def test_windows_icon_holds_every_size_as_png(tmp_path: Path) -> None:
    build = _load("laptrace_build", PACKAGING / "build.py")
    target = tmp_path / "laptrace.ico"
    build.write_ico(target)
    data = target.read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        width, _h, _c, _r, _planes, _bits, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(data)
        sizes.append(width or 256)
    assert sizes == sorted(s for s in build.png_sizes() if s <= 256)
    assert {16, 32, 48, 256} <= set(sizes)


def test_open_dialogs_offer_every_owned_extension() -> None:
    from desktop_app.gui.merge_flow import FILE_FILTERS

    offered = set(FILE_FILTERS[0].split("(", 1)[1].rstrip(")").split())
    for doc in doctypes.DOCUMENT_TYPES:
        for ext in doc.extensions:
            assert f"*.{ext}" in offered, ext
