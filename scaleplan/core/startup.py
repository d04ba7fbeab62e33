"""Start-up without garbage collection: importing the package creates tens of thousands of objects (classes,
functions, dataclasses' generated methods) and no garbage cycles, yet every 700 new objects trigger a collection
that scans them. Pausing the collector while the modules load, and moving what they loaded out of its way before a
command runs (gc.freeze, as CPython's documentation suggests for start-up), saves ~10% of `scaleplan allocate`'s
start-up (benchmarks/bench.py --startup).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused():
    """No collection inside the block; afterwards the collector is as the caller had it (a program that disabled
    it keeps it disabled)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def settle() -> None:
    """Move everything loaded so far to the permanent generation (gc.freeze): a command's own objects are then the
    only ones a collection scans."""
    gc.freeze()
