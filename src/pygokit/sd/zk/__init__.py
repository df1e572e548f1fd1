"""ZooKeeper service discovery: Go kit's ``sd/zk`` on kazoo, bridged to asyncio.

- `ZKClient`: one ZooKeeper session, shared by the instancers and registrars of a
  process; it runs kazoo's threads and hands every result and state change to the
  event loop.
- `ZKInstancer`: publishes the data of the children of a service's znode, re-reading
  them each time its children watch fires, and re-arming the watch after every
  reconnection; error events while the connection or the session is lost.
- `ZKRegistrar`: a protected ephemeral sequential node holding this instance, created
  again after a session expiry (Go kit's is not).

Needs the ``zookeeper`` extra (kazoo).

Example::

    async with ZKClient("127.0.0.1:2181") as client:
        async with ZKRegistrar(client, "/services/sum", "10.0.0.1:8080") as registrar:
            await registrar.register()
            async with ZKInstancer(client, "/services/sum") as instancer:
                assert instancer.state.instances == ("10.0.0.1:8080",)
"""

from pygokit.sd.zk.client import CONNECTED as CONNECTED
from pygokit.sd.zk.client import LOST as LOST
from pygokit.sd.zk.client import SUSPENDED as SUSPENDED
from pygokit.sd.zk.client import StateListener as StateListener
from pygokit.sd.zk.client import ZKClient as ZKClient
from pygokit.sd.zk.instancer import ZKInstancer as ZKInstancer
from pygokit.sd.zk.registrar import ZKRegistrar as ZKRegistrar

__all__ = [
    "CONNECTED",
    "LOST",
    "SUSPENDED",
    "StateListener",
    "ZKClient",
    "ZKInstancer",
    "ZKRegistrar",
]
