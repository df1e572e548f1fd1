"""Service discovery with etcd v3: Go kit's ``sd/etcdv3`` on aetcd.

A service instance registers one key under the service's prefix, on a lease it keeps
alive; clients watch the prefix and get the keys' values as the instances:

- `EtcdRegistrar` puts ``/services/sum/10.0.0.1:8080`` = ``10.0.0.1:8080`` on a lease
  of *ttl* seconds and refreshes it; unlike Go kit it registers again when the lease is
  lost, and its calls never hang.
- `EtcdInstancer` lists the prefix, then watches it from the next revision, so it misses
  no change; on failure it publishes an error event, backs off and lists again.
- `etcd_client` builds the ``aetcd.Client`` both take, with deadlines, keepalive pings
  and quick reconnection; `EtcdError` is what fails.

Needs the ``etcd`` extra: ``pip install 'pygokit[etcd]'``.

Example::

    # In the service, registered for as long as the block runs:
    async with etcd_client("127.0.0.1:2379") as client:
        async with EtcdRegistrar(client, f"/services/sum/{addr}", addr) as registrar:
            await registrar.register()
            await serve(server, host=host, port=port)

    # In its clients:
    async with etcd_client("127.0.0.1:2379") as client:
        async with EtcdInstancer(client, "/services/sum/") as instancer:
            async with DefaultEndpointer(instancer, factory) as endpointer:
                sum_ = retry(3, 1.0, RoundRobin(endpointer))
"""

from pygokit.sd.etcd._client import EtcdError as EtcdError
from pygokit.sd.etcd._client import etcd_client as etcd_client
from pygokit.sd.etcd.instancer import EtcdInstancer as EtcdInstancer
from pygokit.sd.etcd.registrar import EtcdRegistrar as EtcdRegistrar

__all__ = ["EtcdError", "EtcdInstancer", "EtcdRegistrar", "etcd_client"]
