"""pygokit: Go kit for Python.

A toolkit of small, composable packages for building microservices as an onion:
a service (plain business logic), wrapped by endpoints (one async callable per
method, decorated by middleware), exposed by transports. This top-level module
exports only the core vocabulary; every concern lives in its own subpackage.
"""

from pygokit.endpoint import AnyMiddleware as AnyMiddleware
from pygokit.endpoint import Endpoint as Endpoint
from pygokit.endpoint import Failer as Failer
from pygokit.endpoint import Middleware as Middleware
from pygokit.endpoint import chain as chain
from pygokit.endpoint import nop as nop
from pygokit.errors import GoKitError as GoKitError

__all__ = [
    "AnyMiddleware",
    "Endpoint",
    "Failer",
    "GoKitError",
    "Middleware",
    "__version__",
    "chain",
    "nop",
]

__version__ = "0.1.0.dev0"
