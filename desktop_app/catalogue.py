"""Opening the catalogue a :class:`Config` names: the SQL database and the Parquet folder.

The one way the GUI, the CLI commands and the self-test open it: make the engine, bring
the schema up to date, and root the Parquet storage at the data folder. Qt-free, so every
caller gets the same catalogue; what each does next (the GUI's start-up recovery, the
CLI's error messages) stays with the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from desktop_app.config import Config, mask_url
from storage.db import make_engine, upgrade
from storage.parquet import ParquetTelemetryStorage


@dataclass(frozen=True)
class Catalogue:
    """Where saved sessions live: the SQL catalogue and the Parquet folder."""

    config: Config
    engine: Engine
    storage: ParquetTelemetryStorage

    def close(self) -> None:
        """Release the database connections (the files need no closing)."""
        self.engine.dispose()


def open_catalogue(config: Config) -> Catalogue:
    """Connect and migrate (blocking); the caller closes it.

    Raises what the driver or the migration raises (``SQLAlchemyError``, ``ValueError``
    for a bad URL, ``ImportError`` for a missing driver, ``OSError``); an engine whose
    migration failed is disposed first, so no connection is left open.
    """
    engine = make_engine(config.database_url)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Catalogue(config, engine, ParquetTelemetryStorage(config.data_dir))


def open_failure(database_url: str, exc: BaseException) -> str:
    """The message for an :func:`open_catalogue` that raised ``exc``: where, and why.

    The URL is shown without its password, and a database error by the driver's own reason
    (SQLAlchemy's wrapper adds the statement and a help link a user does not need).
    """
    reason = getattr(exc, "orig", None) or exc
    return f"cannot open the catalogue {mask_url(database_url)}: {reason}"
