"""``laptrace``: the GUI by default, ``laptrace import|inspect|sessions|recover|delete|discard|resplit|selftest``.

Each sub-command lives in its own module under :mod:`desktop_app.commands` with a
``register(subparsers)`` function that adds its parser and sets ``func``. Exit codes are
shared (:mod:`desktop_app.commands.exitcodes`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from desktop_app import __version__

#: sub-command name -> module under desktop_app.commands
COMMANDS: dict[str, str] = {
    "inspect": "inspect_cmd",
    "import": "catalog_cmd",
    "sessions": "catalog_cmd",
    "recover": "catalog_cmd",
    "delete": "catalog_cmd",
    "discard": "catalog_cmd",
    "selftest": "selftest_cmd",
    "resplit": "resplit_cmd",
}


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="laptrace",
        description="Lap analysis for race engineers. Without a command, opens the window.",
        epilog=(
            "commands (laptrace COMMAND --help):\n"
            "  inspect FILE...   what Laptrace reads and the laps it finds; no database\n"
            "  import FILE...    read, split and save sessions into the catalogue\n"
            "  sessions          list the saved sessions\n"
            "  recover           finish or fail interrupted saves; list orphan files\n"
            "  delete ID         delete a saved session\n"
            "  discard ID        give up on a failed save\n"
            "  resplit ID ...    split a saved session's laps again at new lines\n"
            "  selftest          the packaged self-test"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"laptrace {__version__}")
    if command is None:
        parser.add_argument("paths", nargs="*", help="logger files to open in the window")
        parser.add_argument("--db", dest="database_url", help="database URL (default: SQLite)")
        parser.add_argument("--data-dir", help="where the catalogue and telemetry live")
        parser.add_argument("--self-test", action="store_true", help="run the packaged self-test and exit")
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # only the command asked for is imported: `inspect` never loads the database layer, and
    # one command's import problem cannot break another
    modules = dict.fromkeys([COMMANDS[command]])
    for module_name in modules:
        module = importlib.import_module(f"desktop_app.commands.{module_name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    guard = importlib.import_module("desktop_app.commands.guard")
    guard.tolerant_streams()
    try:
        return _main(argv)
    except BrokenPipeError:
        guard.quiet_broken_pipe()
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    command = args_in[0] if args_in and args_in[0] in COMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(args_in)
    if command is None:
        if args.self_test:
            selftest = importlib.import_module("desktop_app.commands.selftest_cmd")
            code: int = selftest.run_selftest()
            return code
        # Qt is imported only here, so the sub-commands never load it.
        gui = importlib.import_module("desktop_app.gui.app")
        code = gui.run_gui(args)
        return code
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
