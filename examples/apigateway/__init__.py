"""apigateway: Go kit's API gateway example, one HTTP front door for stringsvc and addsvc.

For each method of each service, the gateway finds the instances (discovery), keeps a
client endpoint per instance (`pygokit.sd.DefaultEndpointer`), picks one per call
(`pygokit.sd.lb.RoundRobin`) and retries a failed call on the next one
(`pygokit.sd.lb.retry`); `gateway` builds the routes, and ``__main__`` chooses where
the instances come from: etcd (Go kit uses Consul), or fixed lists from flags.

Start two stringsvc instances and an addsvc, then the gateway in front of them::

    python -m examples.stringsvc3 --listen 127.0.0.1:8001 &
    python -m examples.stringsvc3 --listen 127.0.0.1:8002 &
    python -m examples.addsvc.cmd.addsvc &
    python -m examples.apigateway --stringsvc-instances 127.0.0.1:8001,127.0.0.1:8002 \\
        --addsvc-instances 127.0.0.1:8081

    curl -s -XPOST -d'{"s":"hello"}' localhost:8000/stringsvc/uppercase
    {"v":"HELLO"}
    curl -s -XPOST -d'{"a":1,"b":2}' localhost:8000/addsvc/sum
    {"v":3}

With ``--etcd-addr 127.0.0.1:2379`` instead, the gateway follows the keys under
``/services/stringsvc/`` and ``/services/addsvc/``, whose values are the instances'
``host:port``: an instance whose key appears is called from then on, and one whose key
goes is not. When no instance answers, the gateway says ``503 service unavailable``.
"""
