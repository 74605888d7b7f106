"""Where Laptrace keeps its data, and which database it talks to.

Resolution order for each setting: command-line flag > environment variable
(``LAPTRACE_DATA_DIR``, ``LAPTRACE_DATABASE_URL``, ``LAPTRACE_CONFIG_DIR``) > saved
settings > defaults (the per-user data directory from platformdirs, holding
``laptrace.sqlite3`` and ``telemetry/``). The settings file is JSON with a schema version
and never holds a password: a password in a URL is moved to the OS keyring on save.
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "Laptrace"
SETTINGS_VERSION = 1
SETTINGS_FILE = "settings.json"
SQLITE_FILE = "laptrace.sqlite3"
KEYRING_SERVICE = "laptrace-database"


def config_dir() -> Path:
    """Folder of the settings file (``LAPTRACE_CONFIG_DIR`` overrides)."""
    env = os.environ.get("LAPTRACE_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass
class Settings:
    """What the user chose in Settings. Missing keys take defaults."""

    data_dir: str | None = None
    database_url: str | None = None  #: never with a password in it
    speed_unit: str = "km/h"  #: display only: "km/h" or "mph"
    recent_files: list[str] = field(default_factory=list)
    window_state: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SETTINGS_VERSION,
            "data_dir": self.data_dir,
            "database_url": self.database_url,
            "speed_unit": self.speed_unit,
            "recent_files": self.recent_files,
            "window_state": self.window_state,
        }


def load_settings() -> Settings:
    """The saved settings, or defaults if there are none or they cannot be read."""
    path = config_dir() / SETTINGS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(raw, dict) or raw.get("version") != SETTINGS_VERSION:
        return Settings()
    s = Settings()
    if isinstance(raw.get("data_dir"), str):
        s.data_dir = raw["data_dir"]
    if isinstance(raw.get("database_url"), str):
        s.database_url = raw["database_url"]
        if s.database_url and split_password(s.database_url)[1] is not None:
            # an older version (or a hand edit) left a password here: move it to the keyring
            with suppress(Exception):
                save_settings(s)
    if raw.get("speed_unit") in ("km/h", "mph"):
        s.speed_unit = raw["speed_unit"]
    if isinstance(raw.get("recent_files"), list):
        s.recent_files = [str(p) for p in raw["recent_files"]][:10]
    if isinstance(raw.get("window_state"), dict):
        s.window_state = {str(k): str(v) for k, v in raw["window_state"].items()}
    return s


def save_settings(settings: Settings) -> None:
    """Write the settings atomically. A password in the database URL goes to the keyring."""
    if settings.database_url:
        settings.database_url = store_password(settings.database_url)
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (SETTINGS_FILE + ".tmp")
    tmp.write_text(json.dumps(settings.to_json(), indent=2), encoding="utf-8")
    os.replace(tmp, folder / SETTINGS_FILE)


#: query parameters of a PostgreSQL URL that carry a credential (libpq's ``password``;
#: a ``passfile`` names a file and is left to libpq)
_SECRET_KEYS = ("password",)
#: every password this process has seen in a URL, masked in whatever it prints
_secrets: set[str] = set()


def split_password(url: str) -> tuple[str, str | None]:
    """``url`` without any password (user part or ``password=`` parameter), and the password.

    With both, the ``password=`` parameter wins, as in libpq. A URL SQLAlchemy cannot parse
    is returned as is (it cannot carry a password we could find).
    """
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except (ArgumentError, ValueError):
        return url, None
    password: str | None = None if u.password is None else str(u.password)
    query: dict[str, str | tuple[str, ...]] = {}
    for key, value in u.query.items():
        if key.lower() in _SECRET_KEYS:
            values = value if isinstance(value, tuple) else (value,)
            if values:
                password = values[-1]
            continue
        query[key] = value
    if password is None:
        return url, None
    _remember(password)
    # URL.set(password=None) leaves the password in place (set() skips None): rebuild it
    bare = URL.create(u.drivername, username=u.username, host=u.host, port=u.port, database=u.database, query=query)
    return bare.render_as_string(hide_password=False), password


def _remember(password: str) -> None:
    from urllib.parse import quote, quote_plus

    if password:
        _secrets.update({password, quote(password, safe=""), quote_plus(password)})


def store_password(url: str) -> str:
    """Move a password out of ``url`` into the OS keyring; return the URL without it.

    Raises SQLAlchemy's ``ArgumentError`` for a URL it cannot parse (nothing is saved).
    """
    from sqlalchemy.engine import make_url

    make_url(url)
    bare, password = split_password(url)
    if password is None:
        return url
    import keyring

    keyring.set_password(KEYRING_SERVICE, _keyring_user(bare), password)
    return bare


def _keyring_user(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return f"{u.username or ''}@{u.host or ''}:{u.port or ''}/{u.database or ''}"


def with_keyring_password(url: str) -> str:
    """``url`` with its password from the keyring, if it has none and the keyring has one."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except (ArgumentError, ValueError):
        return url
    if u.password is not None or u.drivername.startswith("sqlite"):
        return url
    if any(k.lower() in _SECRET_KEYS for k in u.query):
        return url
    try:
        import keyring

        password = keyring.get_password(KEYRING_SERVICE, _keyring_user(url))
    except Exception:  # noqa: BLE001 - no keyring backend on this machine: use the URL as is
        return url
    if password is None:
        return url
    _remember(password)
    return u.set(password=password).render_as_string(hide_password=False)


def mask_url(url: str) -> str:
    """``url`` as it may be shown: any password (user part or parameter) as ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    bare, password = split_password(url)
    if password is None:
        return scrub(url)
    try:
        u = make_url(bare)
    except (ArgumentError, ValueError):
        return scrub(bare)
    return scrub(u.set(password="***").render_as_string(hide_password=False).replace("%2A%2A%2A", "***"))


def scrub(text: str) -> str:
    """``text`` with every password this process has seen replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class Config:
    """The resolved configuration the app and the commands run with."""

    data_dir: Path
    database_url: str

    @property
    def telemetry_dir(self) -> Path:
        return self.data_dir / "telemetry"


def resolve(
    data_dir: str | Path | None = None,
    database_url: str | None = None,
    settings: Settings | None = None,
) -> Config:
    """Flags > environment > settings > defaults."""
    s = settings if settings is not None else load_settings()
    d = data_dir or os.environ.get("LAPTRACE_DATA_DIR") or s.data_dir
    data = Path(d).expanduser() if d else default_data_dir()
    url = database_url or os.environ.get("LAPTRACE_DATABASE_URL") or s.database_url
    if not url:
        url = f"sqlite:///{(data / SQLITE_FILE).as_posix()}"
    else:
        split_password(url)  # remembered, so that nothing printed shows it
        url = with_keyring_password(url)
    return Config(data_dir=data, database_url=url)
