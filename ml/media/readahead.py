"""Produce the items of an iterator in a background thread, a few ahead of the consumer.

Video decoding (FFmpeg inside OpenCV) releases the GIL, so reading the next frames in a thread
overlaps decoding with the face tracking (dlib) on another core instead of taking turns.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

THREAD_NAME = "read-ahead"


def read_ahead(
    source: Iterable[T],
    *,
    depth: int = 4,
    max_bytes: int | None = None,
    size: Callable[[T], int] | None = None,
) -> Iterator[T]:
    """Yield source's items in order, read by a thread that stays at most `depth` items (and,
    given `size`, `max_bytes`; always at least one item) ahead.

    An exception raised by source is raised here, in the consumer, after the items before it.
    Closing this generator (or dropping it, or breaking out of a for loop over it) stops the
    thread, which closes source in its own thread.
    """
    reader = _Reader(source, depth, max_bytes, size)
    try:
        yield from reader.items()
    finally:
        reader.close()


class _Reader:
    def __init__(self, source, depth, max_bytes, size) -> None:
        self._source = source
        self._depth = max(1, depth)
        self._max_bytes = max_bytes
        self._size = size or (lambda _item: 0)
        self._queue: deque = deque()  # ("item", value, bytes) | ("error", exc, 0) | ("end",)
        self._bytes = 0
        self._stopped = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._produce, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def items(self) -> Iterator:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue)
                entry = self._queue.popleft()
                if entry[0] == "item":
                    self._bytes -= entry[2]
                self._changed.notify_all()
            if entry[0] == "end":
                return
            if entry[0] == "error":
                raise entry[1]
            yield entry[1]

    def close(self) -> None:
        with self._changed:
            self._stopped = True
            self._queue.clear()
            self._changed.notify_all()
        self._thread.join()

    def _produce(self) -> None:
        iterator = iter(self._source)
        try:
            for item in iterator:
                nbytes = self._size(item)
                with self._changed:
                    self._changed.wait_for(self._has_room)
                    if self._stopped:
                        return
                    self._queue.append(("item", item, nbytes))
                    self._bytes += nbytes
                    self._changed.notify_all()
            self._put(("end",))
        except Exception as exc:  # noqa: BLE001 - the consumer raises it
            self._put(("error", exc, 0))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # a generator releases what it holds (a video capture) now

    def _has_room(self) -> bool:
        if self._stopped or not self._queue:
            return True
        full = len(self._queue) >= self._depth
        return not full and (self._max_bytes is None or self._bytes < self._max_bytes)

    def _put(self, entry: tuple) -> None:
        with self._changed:
            if not self._stopped:
                self._queue.append(entry)
                self._changed.notify_all()
