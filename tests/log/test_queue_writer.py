"""QueueWriter: lines go to a background thread, so a stuck stream never stalls the caller."""

from __future__ import annotations

import asyncio
import itertools
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO

import pytest

from pygokit.errors import GoKitError
from pygokit.log import LogfmtLogger
from pygokit.log.queue_writer import CloseTimeout, QueueWriter, WriterClosed

WAIT = 5.0  # seconds a test waits for another thread before failing


def wait_until(condition: Callable[[], bool]) -> None:
    """Poll *condition* until it holds; fail the test after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


class Recorder:
    """A stream that keeps each write, and can hold writes until its gate opens."""

    def __init__(self, *, gated: bool = False) -> None:
        self.writes: list[str] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        if not gated:
            self.gate.set()

    def write(self, text: str, /) -> int:
        self.entered.set()
        assert self.gate.wait(WAIT), "the test never opened the gate"
        self.writes.append(text)
        return len(text)

    @property
    def text(self) -> str:
        return "".join(self.writes)


@pytest.fixture
def pipe() -> Iterator[tuple[int, TextIO]]:
    """A real pipe: the read end's descriptor and the write end as a text stream."""
    read_fd, write_fd = os.pipe()
    stream = open(write_fd, "w", encoding="utf-8")  # noqa: SIM115  # closed below
    try:
        yield read_fd, stream
    finally:
        stream.close()
        os.close(read_fd)


def read_all(read_fd: int, into: bytearray) -> None:
    """Read the pipe until every writer has closed it."""
    while chunk := os.read(read_fd, 65536):
        into += chunk


async def test_writes_never_wait_for_a_full_pipe_and_drop_when_the_queue_fills(
    pipe: tuple[int, TextIO],
) -> None:
    """While nobody reads the pipe, writes return, the loop runs and lines beyond the queue drop."""
    read_fd, stream = pipe
    writer = QueueWriter(stream, max_pending=100)
    lines = (f"seq={seq:07d} payload={'x' * 80}\n" for seq in itertools.count())
    written: list[str] = []
    ticks = 0

    def pipe_is_full() -> bool:
        _, writable, _ = select.select([], [stream.fileno()], [], 0)
        return not writable

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    deadline = time.monotonic() + WAIT
    while not (pipe_is_full() and writer.pending == 100):  # fill the pipe, then the queue
        assert time.monotonic() < deadline, "the pipe never filled up"
        batch = [next(lines) for _ in range(100)]
        written += batch
        for line in batch:
            writer.write(line)
        await asyncio.sleep(0.001)

    # The stream is stuck on the full pipe: every further write returns at once, mostly dropped.
    ticks_before, dropped_before = ticks, writer.dropped
    for _ in range(10):
        for _ in range(100):
            written.append(next(lines))
            writer.write(written[-1])
        await asyncio.sleep(0)
    assert pipe_is_full()  # still: so none of those writes waited for the pipe
    assert ticks - ticks_before >= 10  # and the loop ran other tasks meanwhile
    assert writer.dropped - dropped_before >= 900  # at most one queue's worth got in
    ticker.cancel()

    received = bytearray()
    reader = threading.Thread(target=read_all, args=(read_fd, received))
    reader.start()
    await writer.aclose()
    stream.close()
    reader.join()

    out = received.decode().splitlines(keepends=True)
    assert len(out) + writer.dropped == len(written)
    assert set(out) <= set(written)  # every line arrived whole...
    assert out == sorted(out)  # ...and in order
    assert writer.write_errors == 0


def test_block_mode_makes_writers_wait_for_room() -> None:
    """With when_full="block" a writer thread waits while the queue is full, then carries on."""
    stream = Recorder(gated=True)
    writer = QueueWriter(stream, max_pending=2, when_full="block")
    returned = 0

    def write_five() -> None:
        nonlocal returned
        writer.write("0\n")
        assert stream.entered.wait(WAIT)  # the thread holds line 0 and waits at the gate
        returned += 1
        for seq in range(1, 5):
            writer.write(f"{seq}\n")
            returned += 1

    thread = threading.Thread(target=write_five)
    thread.start()
    wait_until(lambda: returned == 3)  # line 0 in the stream, lines 1 and 2 queued
    time.sleep(0.05)

    assert (returned, writer.pending, thread.is_alive()) == (3, 2, True)

    stream.gate.set()
    thread.join()
    writer.close()
    assert stream.text == "0\n1\n2\n3\n4\n"
    assert writer.dropped == 0


def test_close_refuses_a_writer_still_waiting_for_room() -> None:
    """Closing wakes a writer blocked on a full queue with WriterClosed."""
    stream = Recorder(gated=True)
    writer = QueueWriter(stream, max_pending=1, when_full="block")
    writer.write("held\n")
    assert stream.entered.wait(WAIT)
    writer.write("queued\n")
    errors: list[Exception] = []

    def write_blocked() -> None:
        try:
            writer.write("refused\n")
        except WriterClosed as exc:
            errors.append(exc)

    thread = threading.Thread(target=write_blocked)
    thread.start()
    wait_until(lambda: writer._room_waiters == 1)
    closer = threading.Thread(target=writer.close)
    closer.start()
    thread.join()
    stream.gate.set()
    closer.join()

    assert len(errors) == 1
    assert stream.text == "held\nqueued\n"


def test_close_writes_out_the_queue_and_later_writes_raise() -> None:
    """close() returns once every queued line is written; a write after it raises WriterClosed."""
    stream = Recorder()
    with QueueWriter(stream) as writer:
        logger = LogfmtLogger(writer)
        for seq in range(1000):
            logger.log(seq=seq)

    assert stream.text == "".join(f"seq={seq}\n" for seq in range(1000))
    assert writer.closed
    with pytest.raises(WriterClosed, match="closed") as raised:
        writer.write("late\n")
    assert isinstance(raised.value, GoKitError)
    assert isinstance(raised.value, ValueError)
    writer.close()  # closing twice is harmless


async def test_async_with_writes_out_the_queue_without_blocking() -> None:
    """Leaving `async with` waits for the queue without blocking the loop."""
    stream = Recorder()
    async with QueueWriter(stream) as writer:
        for seq in range(100):
            writer.write(f"seq={seq}\n")

    assert stream.text == "".join(f"seq={seq}\n" for seq in range(100))
    with pytest.raises(WriterClosed):
        writer.write("late\n")
    await writer.aclose()  # again: returns at once


async def test_aclose_of_an_unused_writer_returns_at_once() -> None:
    """A writer never written to has no thread, so closing it has nothing to wait for."""
    before = threading.active_count()
    writer = QueueWriter(Recorder())

    assert threading.active_count() == before  # building it started nothing
    await writer.aclose()
    writer.close()
    assert writer.closed


def test_queued_lines_are_batched_into_whole_line_writes() -> None:
    """Lines that pile up are written together, never split, at most 64 KiB or 1024 at a time."""
    stream = Recorder(gated=True)
    writer = QueueWriter(stream)
    writer.write("first\n")
    assert stream.entered.wait(WAIT)
    small = [f"seq={seq}\n" for seq in range(3000)]
    big = ["b" * 40_000 + "\n", "c" * 40_000 + "\n", "d" * 70_000 + "\n"]
    for line in [*small, *big]:
        writer.write(line)
    stream.gate.set()
    writer.close()

    assert stream.writes[0] == "first\n"
    assert [len(w.splitlines()) for w in stream.writes[1:4]] == [1024, 1024, 953]
    assert stream.writes[3].endswith("seq=2999\n" + big[0])  # 62 KiB in all
    assert stream.writes[4:] == big[1:]  # each alone: two would pass 64 KiB
    assert stream.text == "".join(["first\n", *small, *big])


class Failing:
    """A stream whose first write (or every flush) raises, and which keeps the rest."""

    def __init__(self, *, fail_flush: bool = False) -> None:
        self.writes: list[str] = []
        self.failed = threading.Event()
        self.fail_flush = fail_flush

    def write(self, text: str, /) -> None:
        if not self.failed.is_set() and not self.fail_flush:
            self.failed.set()
            raise OSError("EIO")
        self.writes.append(text)

    def flush(self) -> None:
        if self.fail_flush:
            raise OSError("flush failed")


def test_a_failing_write_is_counted_and_the_thread_carries_on() -> None:
    """An exception from the stream loses that write, is counted, and later lines still go out."""
    stream = Failing()
    writer = QueueWriter(stream)
    writer.write("lost\n")
    assert stream.failed.wait(WAIT)
    writer.write("kept\n")
    writer.close()  # does not raise for the failure

    assert stream.writes == ["kept\n"]
    assert writer.write_errors == 1
    assert isinstance(writer.last_error, OSError)


def test_a_failing_flush_is_counted_too() -> None:
    """The flush after the queue empties is a write to the stream as well: failures count."""
    stream = Failing(fail_flush=True)
    with QueueWriter(stream) as writer:
        writer.write("kept\n")

    assert stream.writes == ["kept\n"]
    assert writer.write_errors >= 1
    assert str(writer.last_error) == "flush failed"


def test_close_with_a_timeout_gives_up_on_a_stuck_stream() -> None:
    """close(timeout) raises CloseTimeout, counting the queued lines it gave up as dropped."""
    stream = Recorder(gated=True)
    writer = QueueWriter(stream)
    writer.write("stuck\n")
    assert stream.entered.wait(WAIT)
    for seq in range(3):
        writer.write(f"{seq}\n")

    with pytest.raises(CloseTimeout, match="gave up 3 lines") as raised:
        writer.close(timeout=0.01)

    assert (raised.value.abandoned, raised.value.timeout) == (3, 0.01)
    assert isinstance(raised.value, TimeoutError)
    assert writer.dropped == 3
    stream.gate.set()
    writer.close()  # now the stuck write finishes and the thread ends
    assert stream.writes == ["stuck\n"]


async def test_cancelling_aclose_gives_up_on_a_stuck_stream() -> None:
    """aclose() bounded by asyncio.timeout gives up the queued lines and propagates."""
    stream = Recorder(gated=True)
    writer = QueueWriter(stream)
    writer.write("stuck\n")
    assert stream.entered.wait(WAIT)
    writer.write("given up\n")

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await writer.aclose()

    assert writer.dropped == 1
    stream.gate.set()
    await writer.aclose()
    assert stream.writes == ["stuck\n"]


def test_the_stream_may_write_to_and_close_its_own_writer() -> None:
    """The stream writing back into a full blocking writer drops instead of deadlocking."""
    writer: QueueWriter
    seen: list[str] = []

    class Echoing:
        def write(self, text: str, /) -> None:
            seen.append(text)
            if text == "echo\n":
                writer.write("dropped: the queue is full and this is the writer's thread\n")
                writer.close()  # returns: the thread ends once the queue is written

    writer = QueueWriter(Echoing(), max_pending=1, when_full="block")
    writer.write("echo\n")
    wait_until(lambda: writer.closed)
    writer.close()

    assert seen[0] == "echo\n"
    assert writer.dropped + len(seen) == 2


def test_a_stream_that_ends_the_thread_closes_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the stream raises what no writer should catch, the writer closes and counts the loss."""
    died: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_type))
    stream = Recorder(gated=True)

    class Exiting:
        def write(self, text: str, /) -> None:
            stream.write(text)  # waits at the gate
            raise SystemExit("the stream asked the program to stop")

    writer = QueueWriter(Exiting())
    writer.write("first\n")
    assert stream.entered.wait(WAIT)
    writer.write("second\n")
    stream.gate.set()
    writer.close()

    assert died == [SystemExit]
    assert writer.dropped == 1  # the line queued behind it
    with pytest.raises(WriterClosed):
        writer.write("refused\n")


def test_arguments_are_checked_when_built() -> None:
    """A bad stream, queue size, policy or timeout is refused straight away."""
    with pytest.raises(TypeError, match="write"):
        QueueWriter(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int"):
        QueueWriter(Recorder(), max_pending=True)
    with pytest.raises(TypeError, match="int"):
        QueueWriter(Recorder(), max_pending=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        QueueWriter(Recorder(), max_pending=0)
    with pytest.raises(ValueError, match="when_full"):
        QueueWriter(Recorder(), when_full="wait")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        QueueWriter(Recorder()).close(timeout=-1)
    with pytest.raises(TypeError, match="str"):
        QueueWriter(Recorder()).write(b"bytes\n")  # type: ignore[arg-type]


def test_isatty_and_repr_describe_the_inner_stream(pipe: tuple[int, TextIO]) -> None:
    """isatty() asks the inner stream (false if it cannot say); repr shows the settings."""
    _, stream = pipe
    controller, terminal = os.openpty()
    with open(terminal, "w", encoding="utf-8") as tty:
        assert QueueWriter(tty).isatty()
    os.close(controller)

    assert not QueueWriter(stream).isatty()
    assert not QueueWriter(Recorder()).isatty()
    assert repr(QueueWriter(Recorder(), max_pending=5, when_full="block")).endswith(
        ", max_pending=5, when_full='block')"
    )


EXIT_SCRIPT = """
import atexit, sys, threading, time
from pygokit.log.queue_writer import QueueWriter

class Broken:
    def write(self, text: str) -> None:
        raise OSError("EPIPE")

writer = QueueWriter(sys.stdout)
unused_until_exit = QueueWriter(Broken())

def late() -> None:
    time.sleep(0.3)  # longer than the thread's idle check: it sees this thread still running
    writer.write("from a thread after main ended\\n")

def report() -> None:
    writer.write(f"from atexit: {unused_until_exit.write_errors} error, written directly\\n")

atexit.register(report)
atexit.register(unused_until_exit.write, "first write at exit: no thread, written directly\\n")
for seq in range(1000):
    writer.write(f"seq={seq}\\n")
threading.Thread(target=late).start()
"""


def test_a_program_that_never_closes_the_writer_still_writes_everything_and_exits() -> None:
    """Without close(), the thread writes the queue, waits for other threads, then lets go."""
    result = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT], capture_output=True, text=True, timeout=30, check=True
    )

    assert result.stdout.splitlines() == [
        *(f"seq={seq}" for seq in range(1000)),
        "from a thread after main ended",
        "from atexit: 1 error, written directly",
    ]
    assert result.stderr == ""
