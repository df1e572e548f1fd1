"""Registering endpoints as gRPC services, without servicer classes, and the limits a server has.

Go kit's addsvc writes a servicer class by hand whose methods call
``ServeGRPC``. Here `register` reads the service from the descriptor of the
generated ``*_pb2`` module and installs one generic handler for it, so the
generated ``*_pb2_grpc`` stubs are not needed at all::

    register(grpc_server, addsvc_pb2.DESCRIPTOR.services_by_name["Add"],
             {"Sum": sum_server, "Concat": concat_server})

`new_server` makes a ``grpc.aio.Server`` with the limits set (message size,
concurrent RPCs) and the services registered; `Interceptor` is Go kit's
interceptor that records every RPC's full method in `context.request_method`.

Limits, as grpcio enforces them:

* A message larger than ``max_message_bytes`` (4 MiB by default, gRPC's
  default) is refused with ``RESOURCE_EXHAUSTED`` before any handler runs; a
  reply larger than that fails the same way. The server keeps serving.
* With ``max_concurrent_rpcs``, an RPC beyond that many in flight is answered
  ``RESOURCE_EXHAUSTED`` at once ("Concurrent RPC limit exceeded!") instead of
  queueing; no limit by default, as in gRPC.
* ``SO_REUSEPORT`` is off (grpcio turns it on), so binding a port that another
  server holds fails instead of silently sharing its traffic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

from pygokit._extras import missing_extra

try:
    import grpc
    from google.protobuf.descriptor import ServiceDescriptor
    from google.protobuf.message import Message
    from google.protobuf.message_factory import GetMessageClass
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.grpc.service", "grpc") from exc

from pygokit.transport.grpc import context
from pygokit.transport.grpc.server import Server

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "Interceptor",
    "Services",
    "new_server",
    "register",
]

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""The largest message a server takes or sends unless told otherwise: gRPC's 4 MiB."""

Services: TypeAlias = Mapping[ServiceDescriptor, Mapping[str, Server[Any, Any]]]
"""Services to serve: each descriptor with its handlers by method name."""


def register(
    server: grpc.aio.Server, service: ServiceDescriptor, handlers: Mapping[str, Server[Any, Any]]
) -> None:
    """Serve *handlers* as the methods of *service* on *server* (before it starts).

    *service* is a descriptor from the generated module, such as
    ``addsvc_pb2.DESCRIPTOR.services_by_name["Add"]``; it gives each method's
    full name and message types. A method without a handler is answered
    ``UNIMPLEMENTED`` by gRPC.

    Raises:
        ValueError: A name is not a method of *service*, or names a streaming
            method (Go kit's transport, and this one, serve unary RPCs only).
    """
    method_handlers = {
        method.name: method.server.method_handler(
            method.request_type, method.reply_type, method.full_name
        )
        for method in _unary_methods(service, handlers)
    }
    generic = grpc.method_handlers_generic_handler(service.full_name, method_handlers)
    server.add_generic_rpc_handlers((generic,))


def _check_limits(max_message_bytes: int, max_concurrent_rpcs: int | None) -> None:
    """Raise ValueError unless both limits are positive (or the RPC limit is None)."""
    if max_message_bytes <= 0:
        raise ValueError(f"max_message_bytes must be > 0, got {max_message_bytes}")
    if max_concurrent_rpcs is not None and max_concurrent_rpcs <= 0:
        raise ValueError(f"max_concurrent_rpcs must be > 0 or None, got {max_concurrent_rpcs}")


class _UnaryMethod(NamedTuple):
    """A method of a service with the `Server` that serves it, as `_unary_methods` finds it."""

    name: str
    """The method's name in its service, such as ``"Sum"``."""
    full_name: str
    """The full method as it travels in the ``:path`` header, such as ``"/pb.Add/Sum"``."""
    server: Server[Any, Any]
    request_type: type[Message]
    reply_type: type[Message]


def _unary_methods(
    service: ServiceDescriptor, handlers: Mapping[str, Server[Any, Any]]
) -> list[_UnaryMethod]:
    """Each of *handlers* with its method of *service*: names, message classes, checked.

    Every server backend serves what this returns, so they agree on which
    methods are served and how they are named.

    Raises:
        ValueError: A name is not a method of *service*, or names a streaming method.
    """
    methods = service.methods_by_name
    unknown = sorted(set(handlers) - set(methods))
    if unknown:
        raise ValueError(
            f"{service.full_name} has no method {', '.join(map(repr, unknown))};"
            f" it has {', '.join(sorted(methods)) or 'none'}"
        )
    found = []
    for name, handler in handlers.items():
        method = methods[name]
        if method.client_streaming or method.server_streaming:
            raise ValueError(f"{service.full_name}.{name} streams; only unary methods are served")
        found.append(
            _UnaryMethod(
                name,
                f"/{service.full_name}/{name}",
                handler,
                GetMessageClass(method.input_type),
                GetMessageClass(method.output_type),
            )
        )
    return found


def new_server(
    services: Services | None = None,
    *,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_concurrent_rpcs: int | None = None,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Server:
    """A ``grpc.aio.Server`` with pygokit's limits and *services* registered; no port yet.

    Args:
        services: Handlers by method, by service descriptor (`register` each).
        max_message_bytes: The largest request or reply, in bytes; larger ones
            get ``RESOURCE_EXHAUSTED``.
        max_concurrent_rpcs: RPCs beyond this many in flight get
            ``RESOURCE_EXHAUSTED`` at once; None for no limit.
        interceptors: ``grpc.aio.ServerInterceptor`` objects, outermost first.
        options: More gRPC channel arguments; they win over the ones above.

    Raises:
        ValueError: A limit is not positive.
    """
    _check_limits(max_message_bytes, max_concurrent_rpcs)
    server = grpc.aio.server(
        interceptors=tuple(interceptors),
        options=(
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),
            *options,
        ),
        maximum_concurrent_rpcs=max_concurrent_rpcs,
    )
    for service, handlers in (services or {}).items():
        register(server, service, handlers)
    return server


class Interceptor(grpc.aio.ServerInterceptor):
    """Records every RPC's full method in `context.request_method` (Go kit's ``Interceptor``).

    A `Server` registered with `register` sets it already; this covers the
    other handlers of a server too (a hand-written servicer, say). It costs an
    extra await per RPC, so leave it out where pygokit serves every method.
    """

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Set `context.request_method`, then find the handler as usual."""
        context.request_method.set(handler_call_details.method)
        return await continuation(handler_call_details)

    def __repr__(self) -> str:
        return "Interceptor()"
