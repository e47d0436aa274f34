"""Forming a group commit's group: what one writer thread takes from its queue at once.

The clients a commit answers come back a moment later with their next request. Taking only
what is queued the instant the writer is free splits them into a group of one and a group of
the rest, alternately (measured: the ledger's writer with 8 clients made groups of 1 and 7;
the order pipeline with 32 clients, groups of 1 and 31, each group of one costing a whole
transaction). So the writer waits up to `linger` for as many requests as it just answered
(plus those that queued meanwhile), and no longer: one client alone never waits, and a
group is never delayed by more than `linger`.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def gather(q: queue.Queue[T | None], first: T, *, expect: int, linger: float,
           fits: Callable[[list[T], T], bool]) -> tuple[list[T], T | None, bool]:
    """`first` and the requests after it, as one group: (group, carry, closing).

    While the group has fewer than `expect` requests, waits for more until `linger` seconds
    after it began; then takes only what is already queued. A request that `fits(group, r)`
    refuses ends the group and is carried to the next (it keeps its place). A None in the
    queue (the writer is closing) ends the group, with `closing` True."""
    group = [first]
    deadline = time.perf_counter() + linger
    while True:
        try:
            if len(group) < expect:
                r = q.get(timeout=max(0.0, deadline - time.perf_counter()))
            else:
                r = q.get_nowait()
        except queue.Empty:
            return group, None, False
        if r is None:
            return group, None, True
        if not fits(group, r):
            return group, r, False
        group.append(r)
