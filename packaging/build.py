"""Build the Laptrace installer for the OS this runs on: ``python packaging/build.py``.

1. PyInstaller builds ``packaging/laptrace.spec`` (onedir) into ``packaging/dist/``.
2. The frozen app runs its self-test (``--self-test``); a failure stops the build.
3. The result is wrapped for the OS:
   - Linux: ``packaging/dist/laptrace_<version>_<arch>.deb`` (``dpkg-deb -Zzstd``), and with
     ``--tarball`` a portable ``laptrace-<version>-linux-<arch>.tar.gz`` too;
   - Windows: ``packaging/dist/laptrace-<version>-setup.exe`` (Inno Setup's ``ISCC``);
   - macOS: ``packaging/dist/Laptrace-<version>.dmg`` (``hdiutil``).

Everything under ``packaging/build/`` and ``packaging/dist/`` is git-ignored output.
Needs the dev extra (``pip install -e .[dev]``) for PyInstaller.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUILD = HERE / "build"
DIST = HERE / "dist"
ICONS_SRC = REPO / "resources" / "icons"
ICONS_OUT = BUILD / "icons"

sys.path.insert(0, str(REPO))
from desktop_app import __version__  # noqa: E402

#: Runtime libraries the bundled Qt xcb platform plugin loads from the system
#: (PyInstaller does not bundle them: they belong to the desktop, not to the app).
DEB_DEPENDS = (
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-cursor0",
    "libxkbcommon-x11-0",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libdbus-1-3",
    "fonts-dejavu-core",
)
DEB_RECOMMENDS = ("shared-mime-info", "desktop-file-utils", "xdg-utils")


def log(message: str) -> None:
    print(f"build: {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


# --- icons -----------------------------------------------------------------------------


def png_sizes() -> dict[int, Path]:
    """The rendered icon sizes in resources/icons (laptrace-<size>.png)."""
    found: dict[int, Path] = {}
    for path in ICONS_SRC.glob("laptrace-*.png"):
        match = re.fullmatch(r"laptrace-(\d+)\.png", path.name)
        if match:
            found[int(match.group(1))] = path
    if not found:
        raise SystemExit(f"build: no icons laptrace-<size>.png in {ICONS_SRC}")
    return found


def write_ico(target: Path) -> None:
    """A Windows .ico holding the PNG icons up to 256 px (PNG entries: Vista and later)."""
    images = [(size, path.read_bytes()) for size, path in sorted(png_sizes().items()) if size <= 256]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, data in images:
        dim = 0 if size == 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    target.write_bytes(header + entries + blobs)


def write_icns(target: Path) -> None:
    """A macOS .icns made by ``iconutil`` from an .iconset of the PNG icons."""
    sizes = png_sizes()
    iconset = ICONS_OUT / "laptrace.iconset"
    shutil.rmtree(iconset, ignore_errors=True)
    iconset.mkdir(parents=True)
    for base in (16, 32, 128, 256, 512):
        for scale, suffix in ((1, ""), (2, "@2x")):
            if base * scale in sizes:
                shutil.copy(sizes[base * scale], iconset / f"icon_{base}x{base}{suffix}.png")
    run(["iconutil", "-c", "icns", str(iconset), "-o", str(target)])


def make_icons() -> None:
    ICONS_OUT.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        write_ico(ICONS_OUT / "laptrace.ico")
    elif sys.platform == "darwin":
        write_icns(ICONS_OUT / "laptrace.icns")


# --- PyInstaller and the self-test -----------------------------------------------------


def pyinstaller() -> Path:
    """Run the spec; return the onedir (or the .app on macOS)."""
    started = time.monotonic()
    run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--distpath",
            str(DIST),
            "--workpath",
            str(BUILD / "pyinstaller"),
            str(HERE / "laptrace.spec"),
        ],
        cwd=REPO,
    )
    log(f"PyInstaller took {time.monotonic() - started:.0f} s")
    for cache in (DIST / "laptrace").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    if sys.platform == "darwin":
        return DIST / "Laptrace.app"
    if sys.platform.startswith("linux"):
        strip_libraries(DIST / "laptrace")
    return DIST / "laptrace"


def strip_libraries(bundle: Path) -> None:
    """Linux: drop the symbol tables of the bundled shared libraries (saves ~70 MiB).

    PyInstaller's own ``strip`` option strips everything, which breaks numpy's OpenBLAS
    ("ELF load command address/offset not page-aligned"): the libraries auditwheel vendored
    into ``<package>.libs`` folders were rewritten by patchelf, so they are left alone.
    """
    tool = shutil.which("strip")
    if tool is None:
        log("strip not found: shared libraries left unstripped")
        return
    before = dir_size(bundle)
    libraries = [
        str(path)
        for path in elf_files(bundle)
        if ".so" in path.name and not any(part.endswith(".libs") for part in path.relative_to(bundle).parts)
    ]
    for start in range(0, len(libraries), 64):
        subprocess.run([tool, "--strip-unneeded", *libraries[start : start + 64]], check=False)
    log(f"strip: {len(libraries)} libraries, {(before - dir_size(bundle)) / 2**20:.0f} MiB saved")


def frozen_binary(bundle: Path) -> Path:
    """The executable that prints to a console (Windows has a separate one)."""
    if sys.platform == "win32":
        return bundle / "laptrace-cli.exe"
    if sys.platform == "darwin":
        return bundle / "Contents" / "MacOS" / "laptrace"
    return bundle / "laptrace"


def self_test(binary: Path) -> None:
    """Run the frozen app's self-test; stop the build if it fails."""
    log(f"self-test of {binary}")
    result = subprocess.run([str(binary), "--self-test"], check=False)
    if result.returncode != 0:
        raise SystemExit(f"build: the frozen app's self-test failed (exit {result.returncode})")


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


# --- Linux: .deb and tarball -----------------------------------------------------------


def elf_files(root: Path) -> list[Path]:
    out = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    out.append(path)
    return out


def glibc_needed(root: Path) -> str:
    """The highest GLIBC_x.y symbol version any bundled ELF file asks for."""
    best = (2, 17)
    for path in elf_files(root):
        dump = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True, check=False).stdout
        for major, minor in re.findall(r"GLIBC_(\d+)\.(\d+)", dump):
            best = max(best, (int(major), int(minor)))
    return f"{best[0]}.{best[1]}"


def deb_arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def build_deb(bundle: Path) -> Path:
    """Lay out /opt/laptrace, /usr/bin, desktop entry, MIME types and icons; dpkg-deb it."""
    arch = deb_arch()
    root = BUILD / "deb" / f"laptrace_{__version__}_{arch}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "DEBIAN").mkdir(parents=True)
    shutil.copytree(bundle, root / "opt" / "laptrace", symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "laptrace").symlink_to("/opt/laptrace/laptrace")
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy(REPO / "resources" / "laptrace.desktop", share / "applications" / "laptrace.desktop")
    (share / "mime" / "packages").mkdir(parents=True)
    shutil.copy(REPO / "resources" / "mime" / "laptrace.xml", share / "mime" / "packages" / "laptrace.xml")
    for size, png in png_sizes().items():
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, target / "laptrace.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy(REPO / "resources" / "laptrace.svg", scalable / "laptrace.svg")
    doc = share / "doc" / "laptrace"
    doc.mkdir(parents=True)
    notice = (REPO / "data" / "samples" / "NOTICE.md").read_text(encoding="utf-8")
    (doc / "copyright").write_text(
        "Laptrace: proprietary.\n\nBundled sample logger file (opt/laptrace/_internal/data/samples):\n\n" + notice,
        encoding="utf-8",
    )

    glibc = glibc_needed(root / "opt" / "laptrace")
    installed_kib = (dir_size(root) + 1023) // 1024
    depends = ", ".join((f"libc6 (>= {glibc})",) + DEB_DEPENDS)
    control = (
        f"Package: laptrace\n"
        f"Version: {__version__}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: Laptrace developers <laptrace@invalid>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {depends}\n"
        f"Recommends: {', '.join(DEB_RECOMMENDS)}\n"
        f"Section: science\n"
        f"Priority: optional\n"
        f"Description: lap analysis for race engineers\n"
        f" Laptrace reads the files data loggers write (Racelogic VBOX .vbo, RaceChrono,\n"
        f" AiM, MoTeC and Bosch exports, ASAM MDF4), splits them into laps, shows the lap\n"
        f" traces and the track map, and keeps sessions in a catalogue with Parquet files.\n"
    )
    (root / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    write_md5sums(root)
    for script in ("postinst", "postrm"):
        target = root / "DEBIAN" / script
        shutil.copy(HERE / "linux" / script, target)
        target.chmod(0o755)
    log(f"glibc needed: {glibc}; installed size {installed_kib / 1024:.0f} MiB")

    out = DIST / f"laptrace_{__version__}_{arch}.deb"
    started = time.monotonic()
    run(["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(root), str(out)])
    log(f"dpkg-deb took {time.monotonic() - started:.1f} s: {out} ({out.stat().st_size / 2**20:.0f} MiB)")
    return out


def write_md5sums(root: Path) -> None:
    """DEBIAN/md5sums, so ``dpkg --verify laptrace`` can check the installed files."""
    lines = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.relative_to(root).parts[0] != "DEBIAN":
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            lines.append(f"{digest}  {path.relative_to(root).as_posix()}\n")
    (root / "DEBIAN" / "md5sums").write_text("".join(lines), encoding="utf-8")


def build_tarball(bundle: Path) -> Path:
    """A portable laptrace-<version>-linux-<arch>.tar.gz of the onedir (run ./laptrace)."""
    out = DIST / f"laptrace-{__version__}-linux-{os.uname().machine}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=f"laptrace-{__version__}")
    log(f"tarball: {out} ({out.stat().st_size / 2**20:.0f} MiB)")
    return out


# --- Windows and macOS -----------------------------------------------------------------


def build_inno(bundle: Path) -> Path:
    """laptrace-<version>-setup.exe with Inno Setup (preinstalled on GitHub's Windows runners)."""
    iscc = shutil.which("iscc") or r"C:\Program Files (x86)\Inno Setup 6\ISCC.exe"
    run(
        [
            iscc,
            f"/DAppVersion={__version__}",
            f"/DSourceDir={bundle}",
            f"/DOutputDir={DIST}",
            f"/DIconFile={ICONS_OUT / 'laptrace.ico'}",
            str(HERE / "windows" / "laptrace.iss"),
        ]
    )
    return DIST / f"laptrace-{__version__}-setup.exe"


def build_dmg(app: Path) -> Path:
    """Laptrace-<version>.dmg holding the .app and an /Applications link to drag it to."""
    stage = BUILD / "dmg"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(app, stage / app.name, symlinks=True)
    (stage / "Applications").symlink_to("/Applications")
    out = DIST / f"Laptrace-{__version__}.dmg"
    run(["hdiutil", "create", "-volname", "Laptrace", "-srcfolder", str(stage), "-ov", "-format", "UDZO", str(out)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-pyinstaller", action="store_true", help="reuse the onedir already in packaging/dist")
    parser.add_argument(
        "--no-self-test", action="store_true", help="do not run the frozen app's self-test after building"
    )
    parser.add_argument("--tarball", action="store_true", help="Linux: also write a portable .tar.gz of the onedir")
    args = parser.parse_args(argv)

    make_icons()
    if args.skip_pyinstaller:
        bundle = DIST / ("Laptrace.app" if sys.platform == "darwin" else "laptrace")
        if not bundle.exists():
            raise SystemExit(f"build: {bundle} does not exist; run without --skip-pyinstaller")
    else:
        bundle = pyinstaller()
    log(f"bundle: {bundle} ({dir_size(bundle) / 2**20:.0f} MiB)")
    if not args.no_self_test:
        self_test(frozen_binary(bundle))

    if sys.platform == "win32":
        out = build_inno(bundle)
    elif sys.platform == "darwin":
        out = build_dmg(bundle)
    else:
        out = build_deb(bundle)
        if args.tarball:
            build_tarball(bundle)
    log(f"done: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
