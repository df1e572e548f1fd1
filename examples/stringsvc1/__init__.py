"""stringsvc1: Go kit's first example service, ported to pygokit.

A service with two methods, ``uppercase`` and ``count``, exposed as JSON over HTTP.
It shows the whole onion in one small package: the service behind a Protocol
(`service`), one endpoint per method wrapped in a logging middleware (`endpoints`),
and an HTTP transport (`transport`: a pygokit ``Server`` per method behind a
``Router``), composed in ``async def main()`` (`__main__`).

Run it with ``make run`` (or ``python -m examples.stringsvc1``) and try::

    curl -s -XPOST -d'{"s":"hello, world"}' localhost:8080/uppercase
    {"v":"HELLO, WORLD"}
    curl -s -XPOST -d'{"s":""}' localhost:8080/uppercase
    {"v":"","err":"empty string"}
    curl -s -XPOST -d'{"s":"hello"}' localhost:8080/count
    {"v":5}
"""
