"""WatchingInstancer: the lifecycle every backend instancer shares."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.sd import Event, WatcherDied, WatchingInstancer
from tests.sd.helpers import EventRecorder


class ScriptedInstancer(WatchingInstancer):
    """A watching instancer that publishes what the test puts in its queue.

    An exception put in the queue is raised by the watch, as a bug would be.
    """

    def __init__(self) -> None:
        super().__init__(name="scripted instancer")
        self.script: asyncio.Queue[Event | Exception] = asyncio.Queue()
        self.stopped = 0

    async def _watch(self) -> None:
        try:
            while True:
                item = await self.script.get()
                if isinstance(item, Exception):
                    raise item
                self._publish(item)
        finally:
            self.stopped += 1


async def test_entering_returns_after_the_first_publish() -> None:
    """After entering, the state is what the watch published first."""
    instancer = ScriptedInstancer()
    instancer.script.put_nowait(Event(["a:1"]))
    async with instancer:
        assert instancer.state == Event(["a:1"])
        recorder = EventRecorder()
        instancer.register(recorder)
        assert recorder.events == [Event(["a:1"])]
    assert instancer.stopped == 1


async def test_a_first_error_event_also_completes_entering() -> None:
    """An error as first result still lets entering finish; the state is the error."""
    instancer = ScriptedInstancer()
    instancer.script.put_nowait(Event(error=ConnectionError("registry down")))
    async with instancer:
        assert instancer.state == Event(error=ConnectionError("registry down"))


async def test_subscribers_follow_the_watch() -> None:
    """Every change the watch publishes reaches the subscribers; deregistered ones stop."""
    instancer = ScriptedInstancer()
    instancer.script.put_nowait(Event(["a:1"]))
    recorder, witness = EventRecorder(), EventRecorder()
    async with instancer:
        instancer.register(recorder)
        instancer.register(witness)
        instancer.script.put_nowait(Event(["a:1", "b:2"]))
        async with asyncio.timeout(5):
            await recorder.wait_for(lambda event: event.instances == ("a:1", "b:2"))
        instancer.deregister(recorder)
        instancer.script.put_nowait(Event(["c:3"]))
        async with asyncio.timeout(5):
            await witness.wait_for(lambda event: event == Event(["c:3"]))
    assert recorder.events == [Event(["a:1"]), Event(["a:1", "b:2"])]
    assert repr(instancer) == "ScriptedInstancer('scripted instancer', Event(['c:3']))"


async def test_a_dead_watch_is_published_and_makes_the_owner_raise() -> None:
    """A watch that raises: subscribers get a WatcherDied error event, the owner raises it."""
    instancer = ScriptedInstancer()
    instancer.script.put_nowait(Event(["a:1"]))
    recorder = EventRecorder()

    async def owner() -> None:
        async with instancer:
            instancer.register(recorder)
            instancer.script.put_nowait(ValueError("bug in the watch"))
            await asyncio.Event().wait()  # the death interrupts this

    with pytest.raises(WatcherDied) as info:
        await owner()

    assert isinstance(info.value.__cause__, ValueError)
    assert recorder.last.error is info.value
    assert instancer.state.error is info.value


async def test_a_watch_that_dies_before_publishing_fails_the_entry() -> None:
    """If the watch dies before its first publish, entering raises WatcherDied."""
    instancer = ScriptedInstancer()
    instancer.script.put_nowait(OSError("cannot even start"))

    with pytest.raises(WatcherDied, match="cannot even start"):
        async with instancer:
            pytest.fail("entered an instancer whose watch died")


async def test_an_instancer_can_be_entered_again_after_leaving() -> None:
    """Leaving stops the watch; entering again starts a new one and waits for it."""
    instancer = ScriptedInstancer()
    for instances in (["a:1"], ["b:2"]):
        instancer.script.put_nowait(Event(instances))
        async with instancer:
            assert instancer.state == Event(instances)
    assert instancer.stopped == 2


async def test_cancelling_the_entry_stops_the_watch() -> None:
    """Cancelled while waiting for the first publish, entering stops the watch and re-raises."""
    instancer = ScriptedInstancer()  # nothing scripted: the watch never publishes

    async def enter() -> None:
        async with instancer:
            pytest.fail("entered an instancer that never published")

    task = asyncio.create_task(enter())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert instancer.stopped == 1
