"""The call a JSON-RPC server is serving, as context variables.

Go kit puts the method name in the context (``ContextKeyRequestMethod``) so that
endpoints and middleware can tell which method they serve. A `JSONRPCServer`
sets `rpc_method` and `rpc_id` for each call before its ``before_codec`` hooks
run. Each call of a batch runs in a task of its own, so with its own copy of the
context: what one call's hooks set never reaches another call.

The HTTP request's facts are in `pygokit.transport.http.context`; the
``before`` hooks of the HTTP transport (``populate_request_context``) fill them.

Example::

    async def endpoint(request: Subtract) -> int:
        logger.log(method=rpc_method.get(), id=rpc_id.get())
        return request.minuend - request.subtrahend
"""

from __future__ import annotations

from contextvars import ContextVar

from pygokit.transport.http.jsonrpc.codec import RequestID

__all__ = ["rpc_id", "rpc_method"]

rpc_method: ContextVar[str] = ContextVar("pygokit.jsonrpc.method", default="")
"""The method of the call being served, such as ``"subtract"``."""

rpc_id: ContextVar[RequestID] = ContextVar("pygokit.jsonrpc.id", default=None)
"""The id of the call being served; None for a notification (or a call with id null)."""
