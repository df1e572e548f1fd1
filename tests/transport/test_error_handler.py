"""ErrorHandler, its function adapter and the logging handler."""

from __future__ import annotations

from pygokit.log import LoggerFunc
from pygokit.testing import CapturingLogger
from pygokit.transport import ErrorHandler, ErrorHandlerFunc, LogErrorHandler


def test_log_error_handler_logs_the_error_under_err() -> None:
    """LogErrorHandler writes one event whose only key is err, holding the error itself."""
    logger = CapturingLogger()
    error = ConnectionResetError("peer went away")

    LogErrorHandler(logger).handle(error)

    assert logger.events == [{"err": error}]


def test_log_error_handler_survives_a_failing_logger() -> None:
    """A logger that raises does not turn a handled error into a crash."""

    def broken(**keyvals: object) -> None:
        raise OSError("disk full")

    LogErrorHandler(LoggerFunc(broken)).handle(ValueError("bad frame"))


def test_error_handler_func_calls_the_function() -> None:
    """ErrorHandlerFunc passes each error to the wrapped function."""
    handled: list[Exception] = []
    handler = ErrorHandlerFunc(handled.append)
    error = TimeoutError()

    handler.handle(error)

    assert handled == [error]
    assert isinstance(handler, ErrorHandler)
    assert isinstance(LogErrorHandler(CapturingLogger()), ErrorHandler)


def test_handlers_describe_themselves() -> None:
    """The handlers' reprs show what they wrap, for debugging wiring."""
    assert repr(LogErrorHandler(CapturingLogger())) == (
        "LogErrorHandler(CapturingLogger(events=0))"
    )
    assert repr(ErrorHandlerFunc(print)).startswith("ErrorHandlerFunc(<built-in function print")
