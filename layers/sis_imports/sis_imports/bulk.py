"""Bulk work without the cyclic garbage collector.

Reading an upload, loading a school's roster and diffing the two create millions of small
objects (strings, tuples, lists, dict entries) and no reference cycles. CPython's cyclic
collector, triggered by the allocations themselves, would walk that growing heap again and again:
on a million-row upload it costs more than a third of the read. Reference counting still frees
everything as usual.

When the work is over, what it made is moved straight into the oldest generation (gc.freeze, then
gc.unfreeze, which documents that it puts them there) instead of being left in the youngest: the
first collection after the pause would otherwise walk every tuple of the roster, now out of the
CPU's caches, about a tenth of a second on a million-row upload (docs/performance.md). Nothing in
this service freezes objects for any other reason, so unfreezing everything is safe.
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
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()
