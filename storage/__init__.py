"""The shared storage module: Qt-free, usable from any program.

``storage.types`` is the contract; ``storage.parquet`` writes and reads one Parquet file per
session; ``storage.db`` and ``storage.sessions`` hold the catalogue and the save pipeline.
"""
