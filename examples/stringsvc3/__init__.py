"""stringsvc3: Go kit's third example, stringsvc2 plus a proxy to other instances.

Everything of stringsvc2 is imported, not copied: the service, its logging and
instrumenting middleware, the endpoints and the HTTP transport with ``/metrics``.
What is new is `proxying`: given ``--proxy`` instances, ``uppercase`` is served by
calling them over HTTP, each behind its own circuit breaker and rate limiter, picked
in turn and retried on the next one when a call fails. ``count`` stays local.

Run three instances, one in front of the other two::

    python -m examples.stringsvc3 --listen 127.0.0.1:8001 &
    python -m examples.stringsvc3 --listen 127.0.0.1:8002 &
    python -m examples.stringsvc3 --listen 127.0.0.1:8080 --proxy 127.0.0.1:8001,127.0.0.1:8002

and call the front one; the calls alternate between the other two::

    curl -s -XPOST -d'{"s":"hello, world"}' localhost:8080/uppercase
    {"v":"HELLO, WORLD"}

When neither answers, the front one says so with a 503 and keeps serving ``count``::

    {"error":"service unavailable","request_id":"..."}
"""
