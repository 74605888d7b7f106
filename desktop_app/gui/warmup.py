"""Import the pipeline's lazily imported modules up front, on the GUI thread, before the
window shows.

The readers are imported on first use (``desktop_app.loggers.READERS``) and pyarrow pulls in
further modules the first time it parses or converts (pandas, dateutil, numexpr... when they
are installed): about 400 modules and 0.3 s. Imported on a worker, that runs while holding
the GIL and the import lock, freezing the window for a few hundred milliseconds on the first
drop. Paid once at start-up instead, it is never felt mid-session.

:func:`settle_heap` then moves everything that exists at start-up (Qt wrappers, pyarrow,
numpy, the modules above: ~160,000 objects) out of the garbage collector's sight with
``gc.freeze()``. Otherwise every full collection walks them all: ~250 ms on a slow
machine, and a collection triggered on any thread stops the GUI thread too.
"""

from __future__ import annotations

import gc
import importlib

from desktop_app.loggers import READERS

#: modules pyarrow and the readers import on first use (optional ones may be absent)
_LAZY = (
    "pyarrow.csv",
    "pyarrow.compute",
    "pyarrow.parquet",
    "pandas",
    "dateutil.parser",
    "numpy.ma",
    "json",
    "csv",
    "zoneinfo",
)


def warm_up() -> list[str]:
    """Import the readers, the pipeline and what they import lazily; returns what failed."""
    missing: list[str] = []
    names = ["desktop_app.importing", "desktop_app.laps", "storage.parquet", "storage.sessions"]
    names += [f"desktop_app.loggers.{module}" for module in READERS.values()]
    for name in [*names, *_LAZY]:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def settle_heap() -> None:
    """Collect once, then freeze the survivors (long-lived start-up objects) for good."""
    gc.collect()
    gc.freeze()
