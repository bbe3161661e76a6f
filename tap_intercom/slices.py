"""Several cursor walks side by side, their pages handed to one consumer.

A search cursor is strictly sequential: each page's request needs the previous answer. A long
search window (a first sync, a backfill) is therefore cut into time slices, each walked by its
own thread; the consumer takes pages as they arrive. A walker asks for a page only with a
credit, and the consumer returns the credit when it takes the page, so at most `walkers` pages
wait in memory however far behind the consumer is.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_DONE = object()


def walk_side_by_side(slices: list[Any], walk: Callable[[Any], Iterable[list[dict]]], walkers: int) -> Iterator[dict]:
    """The records of every slice's pages (`walk(slice)` yields pages), in arrival order."""
    pages: queue.Queue = queue.Queue()
    credits = threading.Semaphore(walkers)
    todo = iter(slices)
    todo_lock = threading.Lock()
    stop = threading.Event()  # the consumer has gone (finished, failed or closed)

    def credit() -> bool:
        while not stop.is_set():
            if credits.acquire(timeout=0.2):
                return True
        return False

    def work() -> None:
        try:
            while not stop.is_set():
                with todo_lock:
                    piece = next(todo, None)
                if piece is None:
                    break
                walk_pages = iter(walk(piece))
                while credit():
                    page = next(walk_pages, None)  # the request happens here
                    if page is None:
                        credits.release()
                        break
                    pages.put(page)
        except BaseException as exc:  # handed to the consumer, which raises it
            pages.put(exc)
        finally:
            pages.put(_DONE)

    for n in range(walkers):
        threading.Thread(target=work, name=f"intercom-slice-{n}", daemon=True).start()
    try:
        finished = 0
        while finished < walkers:
            item = pages.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                credits.release()
                yield from item
    finally:
        stop.set()  # walkers still running drop what they hold and end (their threads are daemons)
