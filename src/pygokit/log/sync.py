"""Logging from many threads and tasks at once: Go kit's sync.go, plus a queue for slow sinks.

Formatting loggers make exactly one ``write`` per event, but one ``write`` is not one
contiguous line when several threads share a stream: a stream may copy a line in pieces
and let another thread in between. Pick the smallest tool that fits:

- `SyncWriter` puts a lock around the stream's ``write``, so each event is a contiguous
  line. Use it when threads share a fast stream (a file, a terminal, a journal pipe).
  Tasks on one event loop never interleave inside a ``write`` on their own; threads do.
- `SyncLogger` puts the lock around a whole ``log`` call instead. Use it to wrap a logger
  that is not safe to call from two threads at once, such as one that keeps state or
  makes several writes per event.
- `SwapLogger` forwards every event to a logger that can be replaced at any time, from
  any thread or task (change format or level at run time, or start with a logger that
  discards and install the real one once configuration is read).
- `QueueWriter` (from `pygokit.log.queue_writer`, re-exported here) hands lines to a
  background thread, so ``write`` never waits for a slow pipe or terminal and the event
  loop never stalls on its logs. It also serialises writes, so it needs no `SyncWriter`.

Example::

    logger = LogfmtLogger(SyncWriter(sys.stderr))   # safe from any number of threads

    root = SwapLogger()                             # discards until configured
    root.swap(JSONLogger(SyncWriter(sys.stdout)))

    with QueueWriter(sys.stderr) as writer:         # the event loop never waits on stderr
        logger = LogfmtLogger(writer)
        asyncio.run(main(logger))
"""

from __future__ import annotations

import io
import threading

from pygokit.log.logger import Logger, Writer
from pygokit.log.queue_writer import CloseTimeout as CloseTimeout
from pygokit.log.queue_writer import QueueWriter as QueueWriter
from pygokit.log.queue_writer import WriterClosed as WriterClosed

__all__ = ["CloseTimeout", "QueueWriter", "SwapLogger", "SyncLogger", "SyncWriter", "WriterClosed"]


class SyncWriter:
    """A `pygokit.log.Writer` that lets one ``write`` call through at a time.

    Each ``write`` holds a lock for the whole call to the inner writer, so when every
    event is one ``write`` (as with `pygokit.log.LogfmtLogger` and `pygokit.log.JSONLogger`),
    events never tear or interleave, however many threads log.

    It does not flush after each write: buffering is the inner stream's own policy
    (``sys.stderr`` is line-buffered). `flush` passes through, under the same lock.
    `fileno` and `isatty` pass through too, as Go kit's SyncWriter keeps ``Fd()``, so
    terminal detection still sees the real stream.

    The lock is re-entrant: if the inner writer itself ends up writing to this writer on
    the same thread (a warning routed back into the log, say), that write goes through
    instead of deadlocking.

    A lock wait blocks the calling thread, event loop included: for a sink that can
    stall, use `QueueWriter`.

    Example::

        logger = LogfmtLogger(SyncWriter(sys.stderr))
    """

    __slots__ = ("_lock", "_writer")

    def __init__(self, writer: Writer) -> None:
        if not callable(getattr(writer, "write", None)):
            raise TypeError(f"SyncWriter needs an object with write(text), not {writer!r}")
        self._writer = writer
        self._lock = threading.RLock()

    @property
    def writer(self) -> Writer:
        """The stream that each write is passed to."""
        return self._writer

    def write(self, text: str, /) -> object:
        """Write *text* to the inner writer while no other thread can; return its result."""
        with self._lock:
            return self._writer.write(text)

    def flush(self) -> None:
        """Flush the inner writer, if it can be flushed, between two writes."""
        flush = getattr(self._writer, "flush", None)
        if flush is not None:
            with self._lock:
                flush()

    def fileno(self) -> int:
        """The inner writer's file descriptor.

        Raises:
            io.UnsupportedOperation: The inner writer has no ``fileno``, as for a
                `io.StringIO` (the same error the stream itself would raise).
        """
        fileno = getattr(self._writer, "fileno", None)
        if fileno is None:
            raise io.UnsupportedOperation(f"{type(self._writer).__name__} has no fileno()")
        result: int = fileno()
        return result

    def isatty(self) -> bool:
        """Whether the inner writer is a terminal; false when it cannot tell."""
        isatty = getattr(self._writer, "isatty", None)
        return bool(isatty()) if isatty is not None else False

    def __repr__(self) -> str:
        return f"SyncWriter({self._writer!r})"


class SyncLogger:
    """A `pygokit.log.Logger` that lets one ``log`` call through at a time.

    Wrap a logger that is not safe to call from several threads at once. The lock is
    released however the inner call ends, so a logger that raises once does not block
    every later call. Like `SyncWriter`'s, the lock is re-entrant: an event logged from
    inside the inner logger on the same thread goes through rather than deadlocking.

    Example::

        logger = SyncLogger(MyStatefulLogger())
    """

    __slots__ = ("_lock", "_logger")

    def __init__(self, logger: Logger) -> None:
        if not callable(getattr(logger, "log", None)):
            raise TypeError(f"SyncLogger needs an object with log(**keyvals), not {logger!r}")
        self._logger = logger
        self._lock = threading.RLock()

    @property
    def next(self) -> Logger:
        """The logger that each event is passed to."""
        return self._logger

    def log(self, **keyvals: object) -> None:
        """Pass the event to the inner logger while no other thread can."""
        with self._lock:
            self._logger.log(**keyvals)

    def __repr__(self) -> str:
        return f"SyncLogger({self._logger!r})"


class SwapLogger:
    """A `pygokit.log.Logger` that forwards to a logger you can replace at any time.

    Go kit's SwapLogger. With no logger (``None``, the default) events are discarded.
    `swap` may run while other threads and tasks log: each event goes, whole, to exactly
    one logger, the old or the new one. Logging takes no lock, so a logger that is swapped
    costs no more than a plain one.

    Example::

        root = SwapLogger()                       # discards for now
        service = Service(logger=root)
        root.swap(LogfmtLogger(SyncWriter(sys.stderr)))
    """

    __slots__ = ("_logger", "_swap_lock")

    def __init__(self, logger: Logger | None = None) -> None:
        _check_logger(logger)
        # One attribute holds the current logger. Under the GIL, loading or storing an
        # attribute is one indivisible step, so log() sees either the old or the new logger
        # and never anything in between; it reads the attribute once per event.
        self._logger = logger
        self._swap_lock = threading.Lock()

    @property
    def current(self) -> Logger | None:
        """The logger events go to now, or None if they are discarded."""
        return self._logger

    def log(self, **keyvals: object) -> None:
        """Pass the event to the current logger, or discard it if there is none."""
        logger = self._logger  # read once: a concurrent swap cannot split this event
        if logger is not None:
            logger.log(**keyvals)

    def swap(self, logger: Logger | None) -> Logger | None:
        """Send every later event to *logger* (None discards them); return the previous one.

        Concurrent swaps are serialised, so each returns the logger it really replaced.
        """
        _check_logger(logger)
        with self._swap_lock:
            previous = self._logger
            self._logger = logger
        return previous

    def __repr__(self) -> str:
        return f"SwapLogger({self._logger!r})"


def _check_logger(logger: Logger | None) -> None:
    if logger is not None and not callable(getattr(logger, "log", None)):
        raise TypeError(f"SwapLogger needs a logger with log(**keyvals) or None, not {logger!r}")
