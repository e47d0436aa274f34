"""`ledger.history.prefetched`: the reader thread that overlaps database reads with hashing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ledger.history import prefetched


def test_it_yields_every_chunk_in_order() -> None:
    assert list(prefetched(iter(range(50)), depth=2)) == list(range(50))


def test_closing_early_returns_when_the_reader_has_read_everything() -> None:
    """The consumer stops after the first chunk while the reader, done reading, waits to
    hand on the end with the queue full: closing must not wait for ever (it did: the end
    was put with no regard to the stop)."""
    it = prefetched(iter([1, 2, 3]), depth=2)
    assert next(it) == 1
    time.sleep(0.5)  # the reader has put 2 and 3 and now holds the end
    done = threading.Event()

    def close() -> None:
        it.close()
        done.set()

    threading.Thread(target=close, daemon=True).start()
    assert done.wait(5), "closing the reader hung"


def test_an_error_of_the_reader_reaches_the_consumer() -> None:
    def chunks() -> Iterator[int]:
        yield 1
        raise ValueError("the cursor broke")

    it = prefetched(chunks(), depth=2)
    assert next(it) == 1
    with pytest.raises(ValueError, match="cursor broke"):
        next(it)
