"""addsvc: Go kit's flagship example, ported to pygokit and wire-compatible with it.

One service, one set of endpoints, served over several transports at once with the
whole middleware stack, as Go kit's ``addsvc`` (go-kit/examples) does:

- `service`: the `AddService` Protocol, its business rules and errors, and service
  middleware (logging, counters);
- `endpoints`: one endpoint per method, wrapped in a rate limiter, a circuit breaker,
  logging and a duration histogram, collected in a `Set` that is also an `AddService`;
- `transport_http`, `transport_jsonrpc`, `transport_grpc`: each a server and a client
  for one wire format, byte-compatible with Go kit's;
- ``cmd/addsvc``: serves them all (``make run``); ``cmd/addcli``: calls any of them.

Try it::

    make run
    python -m examples.addsvc.cmd.addcli --transport http --method sum 1 2
    1 + 2 = 3
    curl -s -d '{"a":"go ","b":"kit"}' http://127.0.0.1:8081/concat
    {"v":"go kit"}
"""
