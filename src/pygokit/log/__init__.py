"""Structured logging with Go kit's minimal contract.

A `Logger` has one method, ``log(**keyvals)``: every event is a set of ordered
key/value pairs, never a format string. Everything else is a decorator around a
logger, so each concern stays small and optional:

- formats: `LogfmtLogger`, `JSONLogger`, and colour for terminals in `pygokit.log.term`;
- context: `with_`, `with_prefix`, `with_suffix` (and `bind`) add pairs to every event,
  and `Valuer` values such as `timestamp_utc` and `caller` are computed per event;
- levels: `pygokit.log.level` adds ``level=`` and filters by it;
- synchronisation: `pygokit.log.sync` serialises writes across threads and tasks,
  swaps loggers atomically and moves slow writes off the event loop;
- interop: `pygokit.log.stdlib` bridges the standard `logging` module both ways,
  `pygokit.log.structlog` bridges structlog, `pygokit.log.syslog` writes to syslog;
- `pygokit.log.middleware` logs every endpoint call.

Log to standard error, one line per event, and let the platform collect it.

Example::

    logger = LogfmtLogger(sys.stderr)
    logger = with_(logger, ts=timestamp_utc, caller=caller)
    logger.log(transport="http", addr="127.0.0.1:8080", msg="listening")
    # ts=2026-11-21T08:36:13.123456789Z caller=main.py:20 transport=http addr=... msg=listening
"""

from pygokit.log.context import Context as Context
from pygokit.log.context import bind as bind
from pygokit.log.context import with_ as with_
from pygokit.log.context import with_prefix as with_prefix
from pygokit.log.context import with_suffix as with_suffix
from pygokit.log.json import JSONLogger as JSONLogger
from pygokit.log.logfmt import LogfmtLogger as LogfmtLogger
from pygokit.log.logger import Logger as Logger
from pygokit.log.logger import LoggerFunc as LoggerFunc
from pygokit.log.logger import MappingLogger as MappingLogger
from pygokit.log.logger import NopLogger as NopLogger
from pygokit.log.logger import PrerenderingLogger as PrerenderingLogger
from pygokit.log.logger import Writer as Writer
from pygokit.log.valuer import Caller as Caller
from pygokit.log.valuer import Timestamp as Timestamp
from pygokit.log.valuer import Valuer as Valuer
from pygokit.log.valuer import caller as caller
from pygokit.log.valuer import timestamp as timestamp
from pygokit.log.valuer import timestamp_utc as timestamp_utc

__all__ = [
    "Caller",
    "Context",
    "JSONLogger",
    "LogfmtLogger",
    "Logger",
    "LoggerFunc",
    "MappingLogger",
    "NopLogger",
    "PrerenderingLogger",
    "Timestamp",
    "Valuer",
    "Writer",
    "bind",
    "caller",
    "timestamp",
    "timestamp_utc",
    "with_",
    "with_prefix",
    "with_suffix",
]
