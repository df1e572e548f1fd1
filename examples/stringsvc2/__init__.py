"""stringsvc2: Go kit's second example, stringsvc1 plus logging and instrumenting middleware.

The service, its endpoints and its HTTP transport are stringsvc1's, imported, not
copied. What is new wraps the *service*, not the endpoints, because it needs the
domain: `logging.LoggingMiddleware` logs each call's input, output, error and
duration, and `instrumenting.InstrumentingMiddleware` counts calls, times them and
records the results of ``count``, in Prometheus metrics served at ``GET /metrics``
on the same listener (`transport`).

Run it with ``python -m examples.stringsvc2 [--listen 127.0.0.1:8080]`` and try::

    curl -s -XPOST -d'{"s":"hello, world"}' localhost:8080/uppercase
    {"v":"HELLO, WORLD"}
    curl -s -XPOST -d'{"s":"hello"}' localhost:8080/count
    {"v":5}
    curl -s localhost:8080/metrics | grep my_group
    my_group_string_service_request_count_total{error="false",method="uppercase"} 1.0
    ...

while the log says::

    method=uppercase input="hello, world" output="HELLO, WORLD" err=null took=12µs
    method=count input=hello n=5 took=3µs
"""
