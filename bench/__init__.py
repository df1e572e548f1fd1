"""pygokit's benchmark harness: ``make bench`` (or ``python -m bench``) writes RESULTS.md.

The machine the numbers come from is shared and noisy, so no figure stands alone:
every area measures its own baseline in the same run, interleaved with the thing
under test, and reports the ratio between them.

Areas:

* `bench.middleware`: the per-call cost of pygokit middleware layers, in-process.
* `bench.logs`: pygokit.log against structlog and stdlib logging.
* `bench.metrics`: one metric update per backend, against prometheus_client.
* `bench.resilience`: the happy-path cost of each resilience middleware, and Redis.
* `bench.sd`: endpointer reads and balancer picks under 100 concurrent tasks.
* `bench.http_chain`: an endpoint chain inside a raw ASGI app served by uvicorn and
  loaded by wrk, against the raw app without it.
* `bench.http_frameworks`: pygokit's HTTP server against raw ASGI, Starlette, FastAPI
  and Go kit 0.10 (built offline from Debian's packages), bare and with a chain.
* `bench.grpc_unary`: a unary gRPC call on pygokit's transport against raw grpc.aio, Go kit
  0.10, the sync server and grpclib, with where grpc.aio's time goes.
* `bench.client`: pygokit's HTTP client against aiohttp used directly.

Benchmarks are not tests: nothing here asserts; misses are marked in the report.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Where subprocesses run, so that ``bench`` and ``pygokit`` import as they do here."""
