"""Entry point of the frozen application (PyInstaller runs this file as ``__main__``).

``multiprocessing.freeze_support()`` must run first: on Windows a frozen child process
re-executes the binary, and without it the child would open another window.
"""

from __future__ import annotations

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from desktop_app.cli import main

    raise SystemExit(main())
