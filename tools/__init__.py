"""Developer tools (not part of the application package): ``python -m tools.NAME``."""
