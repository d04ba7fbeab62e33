"""The package's version, as a constant: reading it through importlib.metadata costs ~20 ms at start-up, and the
data cache keys on it at every command (tests/test_files.py checks it against the installed metadata)."""

VERSION = "0.1.0"
