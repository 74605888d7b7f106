#!/usr/bin/env bash
# Install test of the Linux package: build the .deb (or take the one given), install it with
# dpkg -i, run the installed binary's self-test offscreen and under Xvfb, save a session as a
# user would, remove the package with dpkg -r, and check that the files are gone and the
# user's data is not.
#
#   bash packaging/test_deb.sh                  # build with packaging/build.py, then test
#   bash packaging/test_deb.sh path/to/x.deb    # test an existing package
#
# Needs root (or sudo) for dpkg, and xvfb-run (apt-get install xvfb xauth). Refuses to run
# where a laptrace package is already installed, since the test removes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
started=$(date +%s)

say() { echo "test_deb: $*"; }
fail() { echo "test_deb: FAILED: $*" >&2; echo "test_deb: $passed passed, 1 failed"; exit 1; }
passed=0
ok() { passed=$((passed + 1)); say "ok: $*"; }

status() { dpkg-query -W -f='${db:Status-Status}' laptrace 2>/dev/null || true; }
case "$(status)" in
    ""|not-installed|config-files) ;;  # nothing of ours installed (no conffiles to lose)
    *) fail "a laptrace package is already installed here; this test would remove it (dpkg -r laptrace first)" ;;
esac
command -v xvfb-run >/dev/null || fail "xvfb-run is missing (apt-get install xvfb xauth)"

deb=${1:-}
if [ -z "$deb" ]; then
    build_started=$(date +%s)
    "$PYTHON" packaging/build.py
    say "build took $(( $(date +%s) - build_started )) s"
    deb=$(ls -t packaging/dist/laptrace_*.deb | head -n 1)
fi
[ -f "$deb" ] || fail "no package at $deb"

work=$(mktemp -d /tmp/laptrace-debtest.XXXXXX)
cleanup() {
    case "$(status)" in ""|not-installed) ;; *) $SUDO dpkg -P laptrace >/dev/null || true ;; esac
    rm -rf "$work"
}
trap cleanup EXIT

say "package $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n 's/^ *\(Depends\|Installed-Size\|Version\):/  \1:/p'
$SUDO dpkg -i "$deb" || fail "dpkg -i failed (missing Depends? apt-get install -f)"
ok "dpkg -i"

# --- what the package put on the system -------------------------------------------------
installed_files=(
    /opt/laptrace/laptrace
    /usr/share/applications/laptrace.desktop
    /usr/share/mime/packages/laptrace.xml
    /usr/share/icons/hicolor/48x48/apps/laptrace.png
    /usr/share/icons/hicolor/scalable/apps/laptrace.svg
)
for f in "${installed_files[@]}"; do [ -e "$f" ] || fail "$f was not installed"; done
[ "$(readlink /usr/bin/laptrace)" = /opt/laptrace/laptrace ] || fail "/usr/bin/laptrace is not the launcher link"
$SUDO dpkg --verify laptrace || fail "dpkg --verify: installed files differ from the package"
ok "binary, launcher link, desktop entry, MIME types and icons installed and verified"
if command -v update-mime-database >/dev/null; then
    # postinst rebuilt the MIME database: the VBO type is known
    [ -f /usr/share/mime/text/x-vbo.xml ] || fail "text/x-vbo is not in the MIME database after install"
    ok "text/x-vbo registered in the MIME database"
fi
say "installed: $(du -sh /opt/laptrace | cut -f1) in /opt/laptrace"

# --- the installed binary, as a user would run it ---------------------------------------
user_home="$work/home"
mkdir -p "$user_home"
as_user() {
    env -u LAPTRACE_DATA_DIR -u LAPTRACE_CONFIG_DIR -u LAPTRACE_DATABASE_URL \
        -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u QT_QPA_PLATFORM HOME="$user_home" "$@"
}

as_user laptrace --version
say "self-test offscreen (no display):"
out=$(as_user env -u DISPLAY -u WAYLAND_DISPLAY laptrace --self-test) || { echo "$out"; fail "offscreen self-test"; }
echo "$out"
grep -q "offscreen platform" <<<"$out" || fail "the offscreen self-test did not use the offscreen platform"
ok "installed self-test, offscreen"

say "self-test under Xvfb (the xcb platform plugin and its system libraries):"
out=$(as_user xvfb-run -a laptrace --self-test 2>&1) || { echo "$out"; fail "Xvfb self-test"; }
echo "$out"
grep -q "xcb platform" <<<"$out" || fail "the Xvfb self-test did not use the xcb platform"
ok "installed self-test, Xvfb"

# Every real logger file: the installed binary must read it exactly as the source tree does
# (a module or data file missing from the build shows up here, e.g. canmatrix's DBC reader).
loggers=${LAPTRACE_LOGGERS_DIR:-../shared/data/loggers}
if [ -d "$loggers" ] && [ -x "$PYTHON" ]; then
    count=0
    while IFS= read -r -d '' f; do
        want=$(as_user "$PYTHON" -m desktop_app inspect "$f" 2>&1; echo "exit $?")
        got=$(as_user laptrace inspect "$f" 2>&1; echo "exit $?")
        [ "$want" = "$got" ] || { diff <(echo "$want") <(echo "$got") | head -20; fail "laptrace inspect $f differs from the source tree"; }
        count=$((count + 1))
    done < <(find "$loggers" -type f ! -name '*.md' ! -name '*.dbc' -print0 | sort -z)
    [ "$count" -gt 0 ] || fail "no logger files in $loggers"
    ok "laptrace inspect of $count real logger files matches the source tree"
else
    say "NOTE: no real logger files at $loggers (or no $PYTHON): source/installed parity not checked"
fi

# A session saved into the user's default data folder, as engineers' data would be.
sample=$(ls /opt/laptrace/_internal/data/samples/*.csv | head -n 1)
as_user laptrace import "$sample" >/dev/null || fail "laptrace import of $sample"
data_dir="$user_home/.local/share/Laptrace"
[ -f "$data_dir/laptrace.sqlite3" ] || fail "no catalogue in $data_dir after laptrace import"
ls "$data_dir"/telemetry/*.parquet >/dev/null || fail "no Parquet file in $data_dir/telemetry"
ok "laptrace import saved into the user's data folder"
# PostgreSQL through the bundled psycopg and libpq (CI exports a throwaway server's URL).
if [ -n "${LAPTRACE_TEST_POSTGRES_URL:-}" ]; then
    as_user laptrace import --db "$LAPTRACE_TEST_POSTGRES_URL" --force --json "$sample" >"$work/pg.json" \
        || { cat "$work/pg.json"; fail "laptrace import into PostgreSQL"; }
    grep -q '"status": "ready"' "$work/pg.json" || { cat "$work/pg.json"; fail "the PostgreSQL session is not ready"; }
    ok "installed binary saved a session into PostgreSQL"
else
    say "NOTE: LAPTRACE_TEST_POSTGRES_URL is not set: saving to PostgreSQL not checked"
fi
before=$(cd "$data_dir" && find . -type f -name '*.parquet' -o -type f -name '*.sqlite3' | sort | xargs sha256sum)

# --- removal --------------------------------------------------------------------------------
$SUDO dpkg -r laptrace
for f in "${installed_files[@]}" /usr/bin/laptrace; do
    [ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is still there after dpkg -r"
done
[ ! -d /opt/laptrace ] || fail "/opt/laptrace is still there after dpkg -r"
ok "dpkg -r removed every installed file"
if command -v update-mime-database >/dev/null; then
    [ ! -f /usr/share/mime/text/x-vbo.xml ] || fail "text/x-vbo is still in the MIME database"
fi
after=$(cd "$data_dir" && find . -type f -name '*.parquet' -o -type f -name '*.sqlite3' | sort | xargs sha256sum)
[ "$before" = "$after" ] || fail "the user's catalogue or telemetry changed on removal"
ok "user data intact after dpkg -r"
$SUDO dpkg -P laptrace >/dev/null
after=$(cd "$data_dir" && find . -type f -name '*.parquet' -o -type f -name '*.sqlite3' | sort | xargs sha256sum)
[ "$before" = "$after" ] || fail "the user's catalogue or telemetry changed on purge"
ok "user data intact after dpkg -P"
say "done in $(( $(date +%s) - started )) s"
# the plain closing line CI reads
echo "test_deb: $passed passed, 0 failed"
