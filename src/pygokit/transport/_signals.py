"""SIGINT and SIGTERM as a graceful stop, shared by the HTTP and gRPC ``serve`` helpers."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

__all__ = ["stop_on_signals"]


@contextlib.contextmanager
def stop_on_signals(stopping: asyncio.Event, on_repeat: Callable[[], None]) -> Iterator[None]:
    """Inside the block, SIGINT or SIGTERM sets *stopping*; a second one calls *on_repeat*.

    The handlers go on the running loop and the previous ones come back on exit.
    Where the loop cannot take signals (a thread other than the main one, Windows),
    nothing is installed and only the caller's own stop applies.
    """
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stopping.is_set():
            on_repeat()
        stopping.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        try:
            loop.add_signal_handler(sig, on_signal)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread, Windows
            continue
        installed.append((sig, previous))
    try:
        yield
    finally:
        for sig, previous in installed:
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous)
