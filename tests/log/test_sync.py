"""SyncWriter, SyncLogger and SwapLogger, with real threads and tasks sharing one stream."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import pytest

from pygokit.log import LogfmtLogger, Logger, Writer
from pygokit.log.sync import QueueWriter, SwapLogger, SyncLogger, SyncWriter
from pygokit.testing import CapturingLogger

THREADS = 8
TASKS = 8
EVENTS_EACH = 6_250  # 16 writers x 6,250 = 100,000 events
LINE = re.compile(r"writer=(\w+) seq=(\d+) payload=(\S+)")


class ChunkyStream:
    """A thread-safe stream that copies each line in two writes and may let others in between.

    Each half is written under a lock, as a kernel write(2) would be, but nothing holds the
    line together: every *yield_every*-th line gives up the GIL between its halves, so
    without a SyncWriter another thread's line can land in the middle.
    """

    def __init__(self, inner: TextIO, yield_every: int = 8) -> None:
        self.inner = inner
        self.yield_every = yield_every
        self.lines = itertools.count(1)  # next() is atomic, so threads share it safely
        self.chunk_lock = threading.Lock()

    def write(self, text: str, /) -> int:
        half = len(text) // 2
        with self.chunk_lock:
            self.inner.write(text[:half])
        if next(self.lines) % self.yield_every == 0:
            time.sleep(0)  # give up the GIL: any other thread may run and write now
        with self.chunk_lock:
            self.inner.write(text[half:])
        return len(text)


def payload(writer: str, seq: int) -> str:
    """A long value that names its event in every part, so a torn line cannot look whole."""
    return f"{writer}.{seq}." * 8


def log_from_threads_and_tasks(logger: Logger, events_each: int) -> None:
    """Log *events_each* events from each of 8 threads and 8 tasks, all at once."""
    go = threading.Event()

    def thread_writer(name: str) -> None:
        go.wait()
        for seq in range(events_each):
            logger.log(writer=name, seq=seq, payload=payload(name, seq))

    async def task_writer(name: str) -> None:
        for seq in range(events_each):
            logger.log(writer=name, seq=seq, payload=payload(name, seq))
            await asyncio.sleep(0)  # let the other tasks interleave with this one

    async def main() -> None:
        async with asyncio.TaskGroup() as tasks:
            go.set()
            for number in range(TASKS):
                tasks.create_task(task_writer(f"a{number}"))

    threads = [threading.Thread(target=thread_writer, args=(f"t{n}",)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        asyncio.run(main())
    finally:
        go.set()
        for thread in threads:
            thread.join()


def torn_lines(lines: list[str]) -> list[str]:
    """The lines that are not exactly one whole event."""
    torn = []
    for line in lines:
        match = LINE.fullmatch(line)
        if match is None or match[3] != payload(match[1], int(match[2])):
            torn.append(line)
    return torn


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[TextIO]:
    """A real file in text mode, closed after the test."""
    with open(tmp_path / "events.log", "w", encoding="utf-8") as stream:
        yield stream


def read_lines(stream: TextIO) -> list[str]:
    """Close *stream* and return its lines, without the final empty string."""
    stream.close()
    text = Path(stream.name).read_text(encoding="utf-8")
    assert text.endswith("\n")
    return text[:-1].split("\n")


def test_chunky_stream_tears_lines_without_sync_writer(log_file: TextIO) -> None:
    """Control: threads sharing the chunky stream directly do produce torn lines."""
    logger = LogfmtLogger(ChunkyStream(log_file))

    log_from_threads_and_tasks(logger, events_each=200)  # tears hundreds of lines each run

    assert torn_lines(read_lines(log_file))


@pytest.mark.parametrize("wrapper", ["SyncWriter", "QueueWriter"])
def test_100k_events_from_threads_and_tasks_stay_whole_and_in_order(
    log_file: TextIO, wrapper: str
) -> None:
    """8 threads and 8 tasks log 100,000 events: each is one whole line, in per-writer order."""
    stream = ChunkyStream(log_file)
    writer: Writer
    finish: Callable[[], None]
    if wrapper == "SyncWriter":
        writer = SyncWriter(stream)
        finish = log_file.flush
    else:
        queue = writer = QueueWriter(stream, max_pending=THREADS * EVENTS_EACH + 1)
        finish = queue.close

    log_from_threads_and_tasks(LogfmtLogger(writer), EVENTS_EACH)
    finish()
    lines = read_lines(log_file)

    assert len(lines) == (THREADS + TASKS) * EVENTS_EACH
    assert torn_lines(lines) == []
    seen: dict[str, list[int]] = {}
    for line in lines:
        match = LINE.fullmatch(line)
        assert match is not None
        seen.setdefault(match[1], []).append(int(match[2]))
    assert sorted(seen) == sorted(
        [f"t{n}" for n in range(THREADS)] + [f"a{n}" for n in range(TASKS)]
    )
    for seqs in seen.values():
        assert seqs == list(range(EVENTS_EACH))
    if isinstance(writer, QueueWriter):
        assert (writer.dropped, writer.write_errors) == (0, 0)


class RecordingStream:
    """A plain in-memory writer with no fileno, isatty or flush."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def write(self, text: str, /) -> int:
        self.texts.append(text)
        return len(text)


def test_sync_writer_passes_writes_and_their_result_through() -> None:
    """write() reaches the inner writer unchanged and returns what the inner write returned."""
    inner = RecordingStream()
    writer = SyncWriter(inner)

    assert writer.write("a=1\n") == 4
    assert inner.texts == ["a=1\n"]
    assert writer.writer is inner
    assert repr(writer).startswith("SyncWriter(<")


def test_sync_writer_keeps_fileno_and_isatty_of_a_real_stream(log_file: TextIO) -> None:
    """fileno() and isatty() answer for the wrapped file and the wrapped terminal."""
    controller, terminal = os.openpty()
    with open(terminal, "w", encoding="utf-8") as tty:
        assert SyncWriter(tty).isatty()
        assert SyncWriter(tty).fileno() == terminal
    os.close(controller)

    writer = SyncWriter(log_file)
    assert writer.fileno() == log_file.fileno()
    assert not writer.isatty()


def test_sync_writer_without_fileno_says_so_like_a_stream() -> None:
    """A writer with no fileno raises io.UnsupportedOperation and is not a terminal."""
    writer = SyncWriter(RecordingStream())

    with pytest.raises(io.UnsupportedOperation, match="RecordingStream has no fileno"):
        writer.fileno()
    assert not writer.isatty()
    writer.flush()  # nothing to flush: a no-op


def test_sync_writer_flush_reaches_the_inner_stream(log_file: TextIO) -> None:
    """flush() pushes buffered lines out of the wrapped file."""
    writer = SyncWriter(log_file)
    writer.write("msg=buffered\n")
    assert Path(log_file.name).read_text(encoding="utf-8") == ""

    writer.flush()

    assert Path(log_file.name).read_text(encoding="utf-8") == "msg=buffered\n"


def test_sync_writer_lets_the_inner_writer_write_to_it_again() -> None:
    """A write made from inside the inner write, on the same thread, does not deadlock."""
    inner = RecordingStream()
    writer: SyncWriter

    class Echoing:
        def write(self, text: str, /) -> None:
            if not text.startswith("echo"):
                writer.write("echo " + text)
            inner.write(text)

    writer = SyncWriter(Echoing())
    thread = threading.Thread(target=writer.write, args=("msg=hi\n",), daemon=True)
    thread.start()
    thread.join(5)

    assert not thread.is_alive()
    assert inner.texts == ["echo msg=hi\n", "msg=hi\n"]


def test_wrappers_refuse_objects_that_cannot_write_or_log() -> None:
    """SyncWriter, SyncLogger and SwapLogger reject a wrong argument when built."""
    with pytest.raises(TypeError, match="write"):
        SyncWriter(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="log"):
        SyncLogger(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="log"):
        SwapLogger(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="log"):
        SwapLogger().swap(RecordingStream())  # type: ignore[arg-type]


class OverlapCounter:
    """A logger that is not thread-safe: it counts with a read, a pause and a write."""

    def __init__(self) -> None:
        self.count = 0
        self.active = 0
        self.most_active = 0

    def log(self, **keyvals: object) -> None:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        count = self.count
        time.sleep(0)  # another thread may run here
        self.count = count + 1
        self.active -= 1


def test_sync_logger_runs_one_log_call_at_a_time() -> None:
    """4 threads logging through SyncLogger never overlap inside the logger and lose no event."""
    inner = OverlapCounter()
    logger = SyncLogger(inner)

    def log_many() -> None:
        for seq in range(500):
            logger.log(seq=seq)

    threads = [threading.Thread(target=log_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (inner.count, inner.most_active) == (2000, 1)
    assert logger.next is inner
    assert repr(logger).startswith("SyncLogger(<")


def test_sync_logger_releases_the_lock_when_the_inner_logger_raises() -> None:
    """After the inner logger raises, another thread can still log through the SyncLogger."""
    events = CapturingLogger()
    calls = itertools.count()

    def fail_first(**keyvals: object) -> None:
        if next(calls) == 0:
            raise OSError("disk full")
        events.log(**keyvals)

    class FailingFirst:
        def log(self, **keyvals: object) -> None:
            fail_first(**keyvals)

    logger = SyncLogger(FailingFirst())
    with pytest.raises(OSError, match="disk full"):
        logger.log(msg="lost")

    thread = threading.Thread(target=logger.log, kwargs={"msg": "kept"}, daemon=True)
    thread.start()
    thread.join(5)

    assert not thread.is_alive()
    assert events.events == [{"msg": "kept"}]


def test_sync_logger_lets_the_inner_logger_log_to_it_again() -> None:
    """An event logged from inside the inner logger, on the same thread, does not deadlock."""
    events = CapturingLogger()

    class Nesting:
        def log(self, **keyvals: object) -> None:
            if keyvals.get("msg") == "outer":
                logger.log(msg="inner")
            events.log(**keyvals)

    logger = SyncLogger(Nesting())
    thread = threading.Thread(target=logger.log, kwargs={"msg": "outer"}, daemon=True)
    thread.start()
    thread.join(5)

    assert not thread.is_alive()
    assert events.events == [{"msg": "inner"}, {"msg": "outer"}]


def test_swap_logger_discards_until_given_a_logger() -> None:
    """With None the events go nowhere; swap returns the logger it replaced."""
    first, second = CapturingLogger(), CapturingLogger()
    logger = SwapLogger()
    logger.log(msg="discarded")

    assert logger.swap(first) is None
    logger.log(msg="one")
    assert logger.swap(second) is first
    logger.log(msg="two")
    assert logger.swap(None) is second
    logger.log(msg="discarded too")

    assert logger.current is None
    assert first.events == [{"msg": "one"}]
    assert second.events == [{"msg": "two"}]
    assert repr(SwapLogger(first)) == "SwapLogger(CapturingLogger(events=1))"


class Signalling(CapturingLogger):
    """A capturing logger that also signals, across threads, that it received an event."""

    def __init__(self) -> None:
        super().__init__()
        self.received = threading.Event()

    def log(self, **keyvals: object) -> None:
        super().log(**keyvals)
        self.received.set()


async def test_swap_while_threads_log_sends_each_event_to_exactly_one_logger() -> None:
    """A task swaps between two loggers while 4 threads log: no event is lost or doubled."""
    first, second = Signalling(), Signalling()
    logger = SwapLogger(first)
    stop = threading.Event()
    logged = [0] * 4

    def log_until_stopped(number: int) -> None:
        seq = 0
        while not stop.is_set() or seq < 100:
            logger.log(writer=number, seq=seq)
            seq += 1
            time.sleep(0)  # let the swapping task and the other threads in often
        logged[number] = seq

    threads = [threading.Thread(target=log_until_stopped, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        for target in (second, first) * 10:  # each swap waits until its logger gets an event
            target.received.clear()
            logger.swap(target)
            assert await asyncio.to_thread(target.received.wait, 5.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    events = [(event["writer"], event["seq"]) for event in first.events + second.events]
    assert len(events) == len(set(events)) == sum(logged)
    assert set(events) == {(n, seq) for n in range(4) for seq in range(logged[n])}
