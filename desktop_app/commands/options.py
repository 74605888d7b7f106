"""Command-line options that several ``laptrace`` sub-commands share."""

from __future__ import annotations

import argparse


def add_catalogue_options(p: argparse.ArgumentParser) -> None:
    """``--db`` and ``--data-dir``: which catalogue and telemetry folder a command works on."""
    p.add_argument(
        "--db",
        dest="database_url",
        metavar="URL",
        help="catalogue database URL (default: SQLite in the data directory)",
    )
    p.add_argument("--data-dir", metavar="DIR", help="where the catalogue and telemetry live")


def add_files_argument(p: argparse.ArgumentParser) -> None:
    """The logger files a command reads: one or more."""
    p.add_argument("files", nargs="+", metavar="FILE", help="logger files")
