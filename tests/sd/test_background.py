"""Background: loops owned by the entering task; a loop that dies makes its owner raise."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.sd import Background, WatcherDied


async def forever() -> None:
    """A loop that only ends when cancelled."""
    await asyncio.Event().wait()


async def test_stop_cancels_every_loop_and_waits_for_it() -> None:
    """Stopping cancels running loops and returns once they have finished."""
    background = Background("test component")
    await background.start()
    assert background.running
    loops = [background.spawn(forever(), what=f"loop {n}") for n in range(3)]

    await background.stop()

    assert all(loop.cancelled() for loop in loops)
    assert not background.running


async def test_a_loop_may_finish_by_itself() -> None:
    """A loop that returns is simply done; stopping afterwards is clean."""
    background = Background("test component")
    await background.start()
    finished = background.spawn(asyncio.sleep(0), what="short")
    await finished
    await background.stop()
    assert finished.done()
    assert not finished.cancelled()


async def test_cancel_stops_one_loop_and_leaves_the_others() -> None:
    """cancel() ends the given loop and waits for it; the others keep running."""
    background = Background("test component")
    await background.start()
    doomed = background.spawn(forever(), what="doomed")
    kept = background.spawn(forever(), what="kept")

    await background.cancel(doomed)

    assert doomed.cancelled()
    assert not kept.done()
    await background.stop()


async def test_a_dying_loop_cancels_the_owner_and_stop_raises() -> None:
    """A loop that raises cancels the owning task, and stop() raises WatcherDied from it."""
    deaths: list[WatcherDied] = []
    background = Background("etcd instancer /svc/", on_death=deaths.append)
    crash = asyncio.Event()

    async def watch() -> None:
        await crash.wait()
        raise KeyError("bug")

    async def owner() -> None:
        await background.start()
        try:
            background.spawn(watch(), what="watch")
            crash.set()
            await asyncio.Event().wait()  # interrupted by the death
        finally:
            await background.stop()

    with pytest.raises(WatcherDied) as info:
        await owner()

    died = info.value
    assert deaths == [died]
    assert (died.name, died.what) == ("etcd instancer /svc/", "watch")
    assert isinstance(died.__cause__, KeyError)
    assert "the watch loop of etcd instancer /svc/ died with KeyError('bug')" in str(died)
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_the_first_of_several_deaths_is_raised() -> None:
    """When two loops die, stop() raises the first death."""
    background = Background("two loops")

    async def die(message: str) -> None:
        raise RuntimeError(message)

    async def owner() -> None:
        await background.start()
        try:
            background.spawn(die("one"), what="first")
            background.spawn(die("two"), what="second")
            await asyncio.Event().wait()
        finally:
            await background.stop()

    with pytest.raises(WatcherDied) as info:
        await owner()
    assert info.value.what == "first"


async def test_the_owners_own_error_passes_through_unchanged() -> None:
    """An error raised by the owner while loops run is not wrapped or replaced."""
    background = Background("test component")

    async def owner() -> None:
        await background.start()
        try:
            background.spawn(forever(), what="loop")
            raise LookupError("owner's own")
        finally:
            await background.stop()

    with pytest.raises(LookupError, match="owner's own"):
        await owner()


async def test_spawn_before_start_is_refused_without_leaking_the_coroutine() -> None:
    """spawn() outside the lifecycle raises RuntimeError and closes the coroutine."""
    background = Background("idle component")
    with pytest.raises(RuntimeError, match="not running"):
        background.spawn(forever(), what="loop")
    await background.stop()  # stopping what never started is a no-op


async def test_start_twice_is_refused() -> None:
    """start() on a running Background raises RuntimeError."""
    background = Background("test component")
    await background.start()
    with pytest.raises(RuntimeError, match="already running"):
        await background.start()
    await background.stop()


async def test_a_stopped_background_can_start_again() -> None:
    """After stop() a Background can be started again with fresh loops."""
    background = Background("test component")
    for _ in range(2):
        await background.start()
        loop = background.spawn(forever(), what="loop")
        await background.stop()
        assert loop.cancelled()


async def test_spawn_after_a_death_is_refused_without_leaking_the_coroutine() -> None:
    """Once a loop died the group shuts down: spawn() raises RuntimeError and closes the coro."""
    background = Background("dying component")
    refused: list[str] = []

    async def die() -> None:
        raise RuntimeError("bug")

    async def owner() -> None:
        await background.start()
        try:
            background.spawn(die(), what="doomed")
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                try:
                    background.spawn(forever(), what="late")
                except RuntimeError as exc:
                    refused.append(str(exc))
                raise
        finally:
            await background.stop()

    with pytest.raises(WatcherDied):
        await owner()
    assert refused == ["dying component is stopping; cannot start its late loop"]
