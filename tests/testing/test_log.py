"""CapturingLogger keeps events for assertions."""

from __future__ import annotations

from pygokit.testing import CapturingLogger


def test_capturing_logger_keeps_events_in_order() -> None:
    """Each log call becomes one dict, in call order, with its pairs in order."""
    logger = CapturingLogger()
    logger.log(msg="a", n=1)
    logger.log(msg="b")

    assert logger.events == [{"msg": "a", "n": 1}, {"msg": "b"}]
    assert list(logger.events[0]) == ["msg", "n"]
    assert repr(logger) == "CapturingLogger(events=2)"

    logger.clear()
    assert logger.events == []
