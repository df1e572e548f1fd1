"""A writer that never makes the event loop wait: lines go to a background thread.

Writing to a pipe whose reader is slow, a terminal being scrolled, or a network file
system blocks the writing thread; on an event loop that stalls every task. `QueueWriter`
puts each line on a bounded queue and returns at once; one background thread writes the
queue to the real stream, in order.

When the queue is full it drops the line and counts it (``when_full="drop"``, the
default), because a service that stops serving while its logs back up is worse than one
that loses some log lines. ``when_full="block"`` waits for room instead, which loses
nothing but stalls the caller, event loop included: use it for threads and batch jobs.

The thread starts on the first `QueueWriter.write`, so building a writer does nothing but
allocate, and a writer built before ``os.fork()`` works in the child as long as it was not
written to before. Close the writer (it is a context manager, sync and async) to write out
everything still queued and end the thread. It is not a daemon thread, so queued lines are
not cut off when the program ends; if the program ends without closing the writer, the
thread writes out what is queued and ends as soon as no other thread can log any more,
and any later write (from an ``atexit`` handler, say) goes straight to the stream.

Example::

    async def main() -> None:
        async with QueueWriter(sys.stderr) as writer:
            logger = LogfmtLogger(writer)
            await serve(logger)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Literal, Self

from pygokit.errors import GoKitError
from pygokit.log.logger import Writer

__all__ = ["CloseTimeout", "QueueWriter", "WriterClosed"]

# One write to the inner stream takes at most this many queued lines or, unless a single
# line is longer, this many characters: big enough to make writing cheap, small enough that
# the queue lock is never held for long.
_BATCH_LINES = 1024
_BATCH_CHARS = 64 * 1024
# While idle, the thread checks this often (seconds) whether the program is ending.
_IDLE_CHECK = 0.2
# _AT_EXIT: the code marked "see _AT_EXIT" runs only after the main thread has ended. Tests run
# it in a child process (test_a_program_that_never_closes_the_writer_...), which coverage cannot
# follow past the end of the main thread, hence the "no cover" marks.


class WriterClosed(GoKitError, ValueError):
    """A line was written to a `QueueWriter` that had been closed.

    It is also a `ValueError`, like writing to a closed file.
    """


class CloseTimeout(GoKitError, TimeoutError):
    """`QueueWriter.close` ran out of time before the queue was written out.

    The lines still queued were given up and counted in `QueueWriter.dropped`; the one
    write in progress finishes whenever the inner stream lets it.

    Attributes:
        timeout: The time allowed, in seconds.
        abandoned: How many queued lines were given up.
    """

    def __init__(self, timeout: float, abandoned: int) -> None:
        super().__init__(
            f"the log stream did not take the queued lines within {timeout}s; "
            f"gave up {abandoned} lines (counted in dropped): is its reader stuck?"
        )
        self.timeout = timeout
        self.abandoned = abandoned


class _DrainThread(threading.Thread):
    """The thread that writes one `QueueWriter`'s queue to its stream."""


class QueueWriter:
    """A `pygokit.log.Writer` that queues each line for a background thread to write.

    `write` returns as soon as the line is queued. One thread writes the queue to
    *writer* in the order lines were queued. When several lines are waiting it joins
    them into one write, never splitting a line, and when the queue runs empty it
    flushes *writer* (if it has ``flush``), so lines do not linger in a buffer. The
    thread only ever calls *writer*, so *writer* needs no `pygokit.log.sync.SyncWriter`.

    If *writer* raises, the lines of that write are lost, the failure is counted in
    `write_errors` and kept in `last_error`, and the thread carries on. Closing never
    raises for these failures: a broken log stream must not turn a clean shutdown into a
    crash, so check `write_errors` if you need to know.

    Closing does not close *writer*, which usually is ``sys.stderr``.

    Args:
        writer: The stream to write to, such as ``sys.stderr``.
        max_pending: How many lines may wait in the queue (lines, not characters).
        when_full: ``"drop"`` to discard a line that finds the queue full and count it
            in `dropped`; ``"block"`` to wait for room, which stalls the calling thread
            (an event loop too), so use it from threads and batch jobs only.

    Raises:
        TypeError: *writer* has no ``write``, or *max_pending* is not an int.
        ValueError: *max_pending* is below 1, or *when_full* is neither value.

    Example::

        with QueueWriter(sys.stderr, max_pending=50_000) as writer:
            logger = LogfmtLogger(writer)
            logger.log(msg="hello")
    """

    def __init__(
        self,
        writer: Writer,
        *,
        max_pending: int = 10_000,
        when_full: Literal["block", "drop"] = "drop",
    ) -> None:
        if not callable(getattr(writer, "write", None)):
            raise TypeError(f"QueueWriter needs an object with write(text), not {writer!r}")
        if isinstance(max_pending, bool) or not isinstance(max_pending, int):
            raise TypeError(f"max_pending must be an int, not {max_pending!r}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, not {max_pending}")
        if when_full not in ("block", "drop"):
            raise ValueError(f'when_full must be "block" or "drop", not {when_full!r}')
        self._writer = writer
        self._max_pending = max_pending
        self._block = when_full == "block"
        self._lock = threading.Lock()
        self._has_lines = threading.Condition(self._lock)
        self._has_room = threading.Condition(self._lock)
        self._pending: deque[str] = deque()
        self._thread: _DrainThread | None = None
        self._drain_idle = False  # the thread is waiting for lines and must be woken
        self._room_waiters = 0  # blocked writers waiting for room
        self._closed = False
        self._giving_up = False  # close() ran out of time: write nothing more
        self._direct = False  # the program is ending: write on the caller's thread
        self._finished = False  # the thread has ended
        self._on_finish: list[Callable[[], None]] = []
        self._dropped = 0
        self._write_errors = 0
        self._last_error: Exception | None = None

    @property
    def dropped(self) -> int:
        """Lines discarded: written while the queue was full, or given up by `close`."""
        return self._dropped

    @property
    def write_errors(self) -> int:
        """Writes to the inner stream (or flushes of it) that raised."""
        return self._write_errors

    @property
    def last_error(self) -> Exception | None:
        """The latest exception the inner stream raised, or None."""
        return self._last_error

    @property
    def pending(self) -> int:
        """Lines waiting in the queue, not counting the write in progress."""
        return len(self._pending)

    @property
    def closed(self) -> bool:
        """Whether `close` or `aclose` has been called."""
        return self._closed

    def write(self, text: str, /) -> int:
        """Queue *text*; return its length, or 0 if it was dropped because the queue is full.

        In ``"block"`` mode a full queue makes this wait for room instead.

        Raises:
            WriterClosed: The writer has been closed (also while waiting for room).
            TypeError: *text* is not a `str`.
        """
        if not isinstance(text, str):
            raise TypeError(f"QueueWriter.write takes str, not {type(text).__name__}")
        with self._lock:
            if self._closed:
                raise WriterClosed("this QueueWriter is closed; the line was not written")
            if self._thread is None:
                self._start()
            if self._direct:  # pragma: no cover  # see _AT_EXIT
                self._write_now(text)
                return len(text)
            if len(self._pending) >= self._max_pending and not self._wait_for_room():
                self._dropped += 1
                return 0
            self._pending.append(text)
            if self._drain_idle:
                self._drain_idle = False
                self._has_lines.notify()
        return len(text)

    def isatty(self) -> bool:
        """Whether the inner stream is a terminal; false when it cannot tell."""
        isatty = getattr(self._writer, "isatty", None)
        return bool(isatty()) if isatty is not None else False

    def close(self, timeout: float | None = None) -> None:
        """Refuse new lines, wait until the queued ones are written, and end the thread.

        Args:
            timeout: Seconds to wait at most; None waits as long as the stream needs.

        Raises:
            CloseTimeout: The stream did not take every line within *timeout*; the
                rest were given up. The write in progress cannot be interrupted, and the
                program cannot exit until the stream takes it.
        """
        _check_timeout(timeout)
        thread = self._begin_close()
        if thread is None or thread is threading.current_thread():
            return  # never started, or called by the inner stream: the thread ends itself
        thread.join(timeout)
        if thread.is_alive():
            raise CloseTimeout(timeout or 0.0, self._give_up())

    async def aclose(self) -> None:
        """Like `close`, but waits without blocking the event loop.

        To bound the wait, cancel it, for instance with `asyncio.timeout`: the lines still
        queued are then given up as on `close`'s timeout, and the cancellation propagates.
        """
        thread = self._begin_close()
        if thread is None:
            return
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def wake() -> None:  # runs on the drain thread as it ends
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(_resolve, finished)

        with self._lock:
            if self._finished:
                finished.set_result(None)
            else:
                self._on_finish.append(wake)
        try:
            await finished
        except asyncio.CancelledError:
            self._give_up()
            raise
        finally:
            with self._lock:
                if wake in self._on_finish:
                    self._on_finish.remove(wake)
        thread.join()  # it has signalled its last step, so this returns at once

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        when_full = "block" if self._block else "drop"
        return (
            f"QueueWriter({self._writer!r}, max_pending={self._max_pending}, "
            f"when_full={when_full!r})"
        )

    # Everything below runs with self._lock held unless it says otherwise.

    def _start(self) -> None:
        """Start the thread, unless the program is ending: then write directly from now on."""
        if not threading.main_thread().is_alive():  # pragma: no cover  # see _AT_EXIT
            self._direct = True  # too late for a thread: nothing would wait for it
            return
        self._thread = _DrainThread(target=self._run, name="pygokit-QueueWriter")
        self._thread.start()

    def _wait_for_room(self) -> bool:
        """In block mode wait until the queue has room and return True; else return False."""
        if not self._block or threading.current_thread() is self._thread:
            return False  # the inner stream writing to this writer must not wait on itself
        self._room_waiters += 1
        try:
            while len(self._pending) >= self._max_pending:
                self._has_room.wait()
                if self._closed:
                    raise WriterClosed("this QueueWriter was closed while the line waited for room")
        finally:
            self._room_waiters -= 1
        return True

    def _write_now(self, text: str) -> None:  # pragma: no cover  # see _AT_EXIT
        """Write on the caller's thread: used only once the program is ending."""
        try:
            self._writer.write(text)
            flush = getattr(self._writer, "flush", None)
            if flush is not None:
                flush()
        except Exception as exc:  # logging at exit must not raise
            self._record_error(exc)

    def _record_error(self, exc: Exception) -> None:
        self._write_errors += 1
        self._last_error = exc

    def _begin_close(self) -> _DrainThread | None:
        """Mark the writer closed, wake everyone waiting, and return the thread if any."""
        with self._lock:
            self._closed = True
            self._has_lines.notify_all()
            self._has_room.notify_all()
            return self._thread

    def _give_up(self) -> int:
        """Drop every queued line (lock not held by the caller); return how many."""
        with self._lock:
            self._giving_up = True
            abandoned = len(self._pending)
            self._pending.clear()
            self._dropped += abandoned
            return abandoned

    # The drain thread (lock not held unless taken).

    def _run(self) -> None:
        try:
            while self._write_batch():
                pass
        except BaseException:  # the stream raised SystemExit, say: re-raised below
            with self._lock:  # refuse lines nobody would write, and count those lost
                self._closed = True
                self._dropped += len(self._pending)
                self._pending.clear()
            raise
        finally:
            with self._lock:
                self._finished = True
                callbacks, self._on_finish = self._on_finish, []
                self._has_room.notify_all()
            for callback in callbacks:
                callback()

    def _write_batch(self) -> bool:
        """Write the next lines, waiting for some; return False when the thread should end."""
        with self._lock:
            pending = self._pending
            while not pending:
                if self._closed or self._giving_up:
                    return False
                self._drain_idle = True
                woken = self._has_lines.wait(_IDLE_CHECK)
                self._drain_idle = False
                if not woken and not pending and _program_ending():  # pragma: no cover
                    self._direct = True  # see _AT_EXIT
                    return False
            text = pending.popleft()
            size = len(text)
            if pending:
                batch = [text]
                while pending and len(batch) < _BATCH_LINES:
                    size += len(pending[0])
                    if size > _BATCH_CHARS:
                        break
                    batch.append(pending.popleft())
                text = "".join(batch)
            if self._room_waiters:
                self._has_room.notify_all()
        try:
            self._writer.write(text)
            if not pending and not self._giving_up:
                flush = getattr(self._writer, "flush", None)
                if flush is not None:
                    flush()
        except Exception as exc:  # a failing stream must not end the thread
            with self._lock:
                self._record_error(exc)
        return True


def _program_ending() -> bool:
    """Whether the main thread has finished and no other thread could still log."""
    if threading.main_thread().is_alive():
        return False
    return not any(  # pragma: no cover  # see _AT_EXIT
        thread.is_alive() and not thread.daemon and not isinstance(thread, _DrainThread)
        for thread in threading.enumerate()
    )


def _resolve(future: asyncio.Future[None]) -> None:
    with contextlib.suppress(asyncio.InvalidStateError):  # aclose was cancelled meanwhile
        future.set_result(None)


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be None or at least 0, not {timeout}")
