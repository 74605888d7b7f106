"""The command-line sub-commands; each module has ``register(subparsers)``."""
