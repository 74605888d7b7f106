"""No password in plain text: every credential form libpq accepts in a URL (user part,
``password=`` parameter), given through ``--db``, ``LAPTRACE_DATABASE_URL`` or the settings
(the settings dialog's Qt-free path), never appears in a file under the config or data
directory nor in anything printed; the keyring holds it, and connecting still works."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from memkeyring import MemoryKeyring, memory_keyring
from realfiles import logger_file
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from desktop_app import config
from desktop_app.cli import main
from desktop_app.commands import exitcodes

SECRET = "Zq9-p@ss/w:rd%x"  # characters that URLs must percent-encode
ENCODED = quote(SECRET, safe="")
VBO = "vbo/session_20230326_141947_test.vbo"
UNREACHABLE = "127.0.0.1:1"


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MemoryKeyring]:
    monkeypatch.setenv("LAPTRACE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("LAPTRACE_DATABASE_URL", raising=False)
    monkeypatch.delenv("LAPTRACE_DATA_DIR", raising=False)
    with memory_keyring() as r:
        yield r


def _forms(hostport: str, database: str, extra: str = "") -> dict[str, str]:
    base = f"postgresql+psycopg://app{{pw}}@{hostport}/{database}"
    q = f"&{extra}" if extra else ""
    return {
        "user part": base.format(pw=f":{ENCODED}") + (f"?{extra}" if extra else ""),
        "password parameter": base.format(pw="") + f"?password={ENCODED}{q}",
        "both": base.format(pw=":other-pw") + f"?password={ENCODED}{q}",
    }


@pytest.fixture
def pg() -> Iterator[tuple[str, str, str] | None]:
    """host:port, database and query (a fresh schema) on the test server, if there is one."""
    url = os.environ.get("LAPTRACE_TEST_POSTGRES_URL")
    if not url:
        yield None
        return
    u = make_url(url)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{u.host}:{u.port}", str(u.database), f"options={quote('-csearch_path=' + schema, safe='')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _grep(folders: list[Path], texts: list[str]) -> list[str]:
    hits: list[str] = []
    for t in texts:
        if SECRET in t or ENCODED in t:
            hits.append(t[:200])
    for folder in folders:
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                if SECRET.encode() in data or ENCODED.encode() in data:
                    hits.append(str(path))
    return hits


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("form", ["user part", "password parameter", "both"])
def test_split_password_strips_every_form(form: str) -> None:
    url = _forms("db.example:5432", "laptrace", "sslmode=prefer")[form]
    bare, password = config.split_password(url)
    assert password == SECRET
    assert SECRET not in bare and ENCODED not in bare and "other-pw" not in bare
    assert make_url(bare).query == {"sslmode": "prefer"} and make_url(bare).username == "app"
    assert "***" in config.mask_url(url) and SECRET not in config.mask_url(url)
    assert ENCODED not in config.mask_url(url)


@pytest.mark.parametrize("form", ["user part", "password parameter", "both"])
def test_settings_path_moves_the_password_to_the_keyring(
    ring: MemoryKeyring,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pg: tuple[str, str, str] | None,
    form: str,
) -> None:
    target = pg or (UNREACHABLE, "laptrace", "connect_timeout=2")
    url = _forms(*target)[form]
    from desktop_app.gui.settings_dialog import url_with_password

    # the dialog's path: URL field (and password field) -> save_settings
    s = config.Settings(data_dir=str(tmp_path / "data"), database_url=url_with_password(url, ""))
    config.save_settings(s)
    assert list(ring.store.values()) == [SECRET]
    loaded = config.load_settings()
    assert loaded.database_url is not None and SECRET not in loaded.database_url
    resolved = config.resolve(settings=loaded)
    assert make_url(resolved.database_url).password == SECRET  # what the engine gets
    code, out, err = _run(capsys, ["sessions"])
    if target[0] == UNREACHABLE:
        assert code == exitcodes.STORAGE_FAILURE and "cannot open the catalogue" in err and "***" in err
    else:
        assert code == exitcodes.OK, err
    assert _grep([tmp_path / "config", tmp_path / "data"], [out, err]) == []


def test_a_settings_file_of_an_older_version_is_cleaned(ring: MemoryKeyring, tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    url = _forms("db.example:5432", "laptrace")["password parameter"]
    (folder / "settings.json").write_text(f'{{"version": 1, "database_url": "{url}"}}', encoding="utf-8")
    loaded = config.load_settings()
    assert loaded.database_url == "postgresql+psycopg://app@db.example:5432/laptrace"
    assert _grep([folder], []) == [] and list(ring.store.values()) == [SECRET]


@pytest.mark.parametrize("form", ["user part", "password parameter", "both"])
@pytest.mark.parametrize("via", ["--db", "LAPTRACE_DATABASE_URL"])
def test_flag_and_environment_never_print_or_save_the_password(
    ring: MemoryKeyring,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg: tuple[str, str, str] | None,
    form: str,
    via: str,
) -> None:
    targets = [(UNREACHABLE, "laptrace", "connect_timeout=2")]
    if pg is not None:
        targets.append(pg)
    data = tmp_path / "data"
    for hostport, database, extra in targets:
        url = _forms(hostport, database, extra)[form]
        db_args = ["--db", url] if via == "--db" else []
        if via != "--db":
            monkeypatch.setenv("LAPTRACE_DATABASE_URL", url)
        outputs: list[str] = []
        for argv in (
            ["import", str(logger_file(VBO)), "--json"],
            ["import", str(logger_file(VBO))],  # a duplicate the second time round
            ["sessions"],
            ["sessions", "--json"],
            ["recover", "--retry"],
            ["delete", "999999"],
            ["discard", "999999"],
        ):
            code, out, err = _run(capsys, [*argv, *db_args, "--data-dir", str(data)])
            outputs += [out, err]
            assert "Traceback" not in err
            if hostport == UNREACHABLE:
                assert code == exitcodes.STORAGE_FAILURE and "cannot open the catalogue" in err
                assert "***" in err
        if hostport != UNREACHABLE:
            assert "already imported" in "".join(outputs)
        assert ring.store == {}  # a flag or the environment is used, not stored
        assert _grep([tmp_path / "config", data], outputs) == [], form
