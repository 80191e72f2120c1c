"""Bulk work without the cyclic garbage collector.

Reading an upload, loading a school's roster and diffing the two create millions of small
objects (strings, tuples, lists, dict entries) and no reference cycles. CPython's cyclic
collector, triggered by the allocations themselves, would walk that growing heap again and again:
on a million-row upload it costs more than a third of the read. Reference counting still frees
everything as usual; the collector simply runs once the bulk work is over.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
