"""``serve()``: the asyncio server (python-websockets' ``websockets.asyncio.server.serve``)."""

from __future__ import annotations

import asyncio
import ctypes
from typing import Awaitable, Callable, Iterable

from . import _ffi
from ._driver import Opener, check, driver
from .client import _conn_options
from .connection import Connection


class ServerConnection(Connection):
    """A server's connection; ``request_path`` and ``request_headers`` are the upgrade request's."""

    request_path: str = "/"
    request_headers: list = []


Handler = Callable[[ServerConnection], Awaitable[None]]
# process_request(path, headers) -> None to accept, or (status, headers, body) to answer instead.
ProcessRequest = Callable[[str, list], "tuple[int, list, bytes] | None"]


class Server:
    """A listening server. ``port`` is the one bound; ``close()`` then ``await wait_closed()``."""

    def __init__(self, handler: Handler, host: str | None, port: int, *, unix_path: str | None = None,
                 subprotocols: Iterable[str] | None = None, process_request: ProcessRequest | None = None,
                 compression: str | None = "deflate", max_size: int | None = 2**20):
        self._drv = driver()
        self._handler = handler
        self._subprotocols = list(subprotocols or [])
        self._process_request = process_request
        self._cb = _ffi.SERVER_CB(self._on_event)
        self._closed = self._drv.aloop.create_future()
        self._tasks: set[asyncio.Task] = set()
        self._accepting: tuple[str, list] = ("/", [])  # the request being accepted: its CONNECTION follows
        self.connections: set[ServerConnection] = set()
        conn_opts, deflate = _conn_options(max_size, compression)
        if compression is None:
            conn_opts.deflate = None  # a server without it does not negotiate the extension
        so = _ffi.ServerOptions()
        _ffi.lib.wsc_server_options_init(ctypes.byref(so), ctypes.sizeof(so))
        h = host.encode() if host else None
        u = unix_path.encode() if unix_path else None
        so.host, so.unix_path, so.port = h, u, port
        so.conn = ctypes.pointer(conn_opts)
        so.flags |= _ffi.SERVER_HANDLE_REQUESTS
        handle = ctypes.c_void_p()
        check(_ffi.lib.wsc_server_new(ctypes.byref(handle), self._drv.loop, ctypes.byref(so), self._cb, None),
              "serve")
        self._srv = handle.value
        addr = _ffi.Addr()
        _ffi.lib.wsc_server_address(self._srv, ctypes.byref(addr))
        self.port = addr.port
        self.host = addr.address.decode()
        _servers.add(self)
        self._drv.kick()

    def _on_event(self, srv, evp, user_data) -> None:
        ev = evp.contents
        if ev.type == _ffi.SERVER_REQUEST:
            self._on_request(ev.request)
        elif ev.type == _ffi.SERVER_CONNECTION:
            ws = ServerConnection(self._drv)
            ws.request_path, ws.request_headers = self._accepting
            _ffi.lib.wsc_conn_set_callback(ev.conn, ws._cb, None)
            ws._attach(ev.conn)
            p = _ffi.lib.wsc_conn_protocol(ev.conn)
            ws.subprotocol = (p.decode() or None) if p else None
            ws._opened.set_result(None)
            self.connections.add(ws)
            task = self._drv.aloop.create_task(self._run_handler(ws))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif ev.type == _ffi.SERVER_CLOSE:
            self._srv = None
            _servers.discard(self)
            if not self._closed.done():
                self._closed.set_result(None)

    def _on_request(self, req) -> None:
        path = _ffi.lib.wsc_request_target(req).decode("latin-1")
        headers = []
        h = _ffi.Header()
        for i in range(_ffi.lib.wsc_request_header_count(req)):
            if _ffi.lib.wsc_request_header(req, i, ctypes.byref(h)) == 0:
                headers.append((ctypes.string_at(h.name, h.name_len).decode("latin-1"),
                                ctypes.string_at(h.value, h.value_len).decode("latin-1")))
        if self._process_request is not None:
            answer = self._process_request(path, headers)
            if answer is not None:
                status, extra, body = answer
                for k, v in extra:
                    _ffi.lib.wsc_request_add_header(req, k.encode("latin-1"), v.encode("latin-1"))
                body = body.encode() if isinstance(body, str) else bytes(body or b"")
                _ffi.lib.wsc_request_reject(req, status, None, body, len(body))
                return
        offered = [_ffi.lib.wsc_request_protocol(req, i).decode()
                   for i in range(_ffi.lib.wsc_request_protocol_count(req))]
        chosen = next((p for p in self._subprotocols if p in offered), None)
        self._accepting = (path, headers)  # the CONNECTION event follows within this call
        _ffi.lib.wsc_request_accept(req, chosen.encode() if chosen else None)

    async def _run_handler(self, ws: ServerConnection) -> None:
        try:
            await self._handler(ws)
        except Exception:  # as python-websockets: a failing handler closes with 1011
            await ws.close(1011, "internal error")
        else:
            await ws.close()
        finally:
            self.connections.discard(ws)

    def close(self) -> None:
        """Stops listening and closes every connection with 1001 (going away)."""
        if self._srv is not None:
            _ffi.lib.wsc_server_close(self._srv, 1001)
            self._drv.kick()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()
        await self.wait_closed()


_servers: set[Server] = set()


class serve(Opener):
    """``async with serve(handler, host, port) as server`` or ``server = await serve(...)``."""

    def __init__(self, handler: Handler, host: str | None = None, port: int = 0, **kwargs):
        self._args = (handler, host, port)
        self._kwargs = kwargs

    async def _open(self) -> Server:
        return Server(*self._args, **self._kwargs)
