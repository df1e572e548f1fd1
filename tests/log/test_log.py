"""The Logger contract and its two smallest implementations."""

from __future__ import annotations

import io

from pygokit.log import LogfmtLogger, Logger, LoggerFunc, MappingLogger, NopLogger
from pygokit.log.logger import forward_to
from pygokit.testing import CapturingLogger


def test_logger_func_passes_pairs_in_order() -> None:
    """LoggerFunc hands the wrapped function every pair, in the caller's order."""
    seen: list[list[tuple[str, object]]] = []

    def emit(**keyvals: object) -> None:
        seen.append(list(keyvals.items()))

    logger = LoggerFunc(emit)
    logger.log(msg="hello", b=2, a=1)

    assert seen == [[("msg", "hello"), ("b", 2), ("a", 1)]]
    assert repr(logger).startswith("LoggerFunc(<function")


def test_nop_logger_accepts_anything_and_writes_nothing() -> None:
    """NopLogger takes any pairs and has no observable effect."""
    logger = NopLogger()
    logger.log(msg="dropped", value=object())
    logger.log_mapping({"msg": "dropped too"})
    assert isinstance(logger, MappingLogger)
    assert repr(logger) == "NopLogger()"


def test_all_loggers_satisfy_the_protocol() -> None:
    """LoggerFunc, NopLogger and CapturingLogger are all Loggers; a plain object is not."""
    for logger in (LoggerFunc(print), NopLogger(), CapturingLogger()):
        assert isinstance(logger, Logger)
    assert not isinstance(object(), Logger)


def test_forward_to_prefers_log_mapping_and_falls_back_to_log() -> None:
    """forward_to hands a dict to log_mapping when there is one, else to log(**event)."""
    stream = io.StringIO()
    capturing = CapturingLogger()

    forward_to(LogfmtLogger(stream))({"a": 1})
    forward_to(capturing)({"b": 2})

    assert stream.getvalue() == "a=1\n"
    assert capturing.events == [{"b": 2}]
    assert isinstance(LogfmtLogger(stream), MappingLogger)
    assert not isinstance(capturing, MappingLogger)
