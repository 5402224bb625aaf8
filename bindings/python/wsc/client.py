"""``connect()``: the asyncio client (python-websockets' ``websockets.asyncio.client.connect``)."""

from __future__ import annotations

import asyncio
import ctypes
import random
from typing import Any, AsyncIterator

from . import _ffi
from ._conn import check
from ._driver import Opener, driver
from ._options import DEFAULTS, client_options
from .connection import Connection
from .exceptions import InvalidHandshake, InvalidStatus, InvalidURI, WscError


class ClientConnection(Connection):
    """A client's connection; ``response_headers`` are the server's 101 answer's."""


def check_uri(uri: str) -> None:
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme not in ("ws", "wss", "ws+unix"):
        raise InvalidURI(uri, "scheme isn't ws, wss or ws+unix")


def start(core, loop: int, uri: str, kwargs: dict) -> None:
    """wsc_connect with python-websockets-style options; core gets the handle (loop thread)."""
    check_uri(uri)
    opts = {**DEFAULTS, **kwargs}
    opts.pop("max_queue", None)
    if uri.lower().startswith("wss:") and opts.get("ssl") is None:
        opts["ssl"] = True
    co, keep = client_options(**opts)
    handle = ctypes.c_void_p()
    rc = _ffi.lib.wsc_connect(ctypes.byref(handle), loop, uri.encode(), ctypes.byref(co), core._cb, None)
    del keep  # copied by wsc_connect
    if rc == _ffi.EURL:
        raise InvalidURI(uri, _ffi.strerror(rc))
    check(rc, "connect", detail=True)
    core.uri = uri
    core._attach(handle.value)


class connect(Opener):
    """``async with connect(uri) as ws``, ``ws = await connect(uri)``, or, to reconnect with
    exponential backoff whenever the connection fails, ``async for ws in connect(uri)``.

    Options (python-websockets' names and defaults): ``subprotocols``, ``additional_headers``,
    ``origin``, ``compression`` ("deflate", None, or a dict of permessage-deflate parameters),
    ``open_timeout`` (10 s), ``ping_interval`` (20 s) and ``ping_timeout`` (20 s),
    ``close_timeout`` (10 s), ``max_size`` (1 MiB; None: no limit), ``max_queue`` (16 messages
    received but not read, after which reading pauses), ``write_limit`` (32 KiB: send() waits
    above it), ``ssl`` (an ssl.SSLContext, wsc.TLSOptions or True), ``server_hostname``,
    ``follow_redirects`` (True) and ``max_redirects`` (10).
    """

    # Reconnection delays (s): the first is drawn up to twice backoff_min, then each grows by
    # backoff_factor up to backoff_max.
    backoff_min, backoff_factor, backoff_max = 1.0, 1.618, 90.0

    def __init__(self, uri: str, **kwargs: Any):
        check_uri(uri)
        self.uri = uri
        self.kwargs = kwargs

    async def _open(self) -> ClientConnection:
        drv = driver()
        ws = ClientConnection(drv, self.kwargs.get("max_queue", DEFAULTS["max_queue"]))
        try:
            start(ws, drv.loop, self.uri, self.kwargs)
        finally:
            drv.kick()  # also when start() failed: the pass frees a wsc loop left with nothing open
        try:
            await ws._opened
        except WscError:
            raise ws._failed_open() from None
        return ws

    async def __aiter__(self) -> AsyncIterator[ClientConnection]:
        """Connects, yields the connection, and after it fails connects again (backoff from 1 s
        up to 90 s with jitter, as python-websockets). Stop with ``break``."""
        delay = 0.0
        while True:
            try:
                ws = await self._open()
            except (OSError, TimeoutError, InvalidHandshake) as e:
                if isinstance(e, (InvalidURI,)) or (isinstance(e, InvalidStatus) and e.status < 500):
                    raise  # not a transient failure
                delay = min(self.backoff_max, delay * self.backoff_factor if delay
                            else self.backoff_min * (1 + random.random()))
                await asyncio.sleep(delay)
                continue
            delay = 0.0
            try:
                yield ws
            finally:
                if ws.state != 3:
                    await ws.close()


def unix_uri(path: str, uri: str) -> str:
    """The ws+unix:// URI for the socket at ``path``, requesting ``uri``'s path and query."""
    rest = uri.split("://", 1)[-1]
    resource = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return f"ws+unix://{path}:{resource}"


def unix_connect(path: str, uri: str = "ws://localhost/", **kwargs: Any) -> connect:
    """connect() over the Unix socket at ``path``; ``uri`` gives the request's path."""
    return connect(unix_uri(path, uri), **kwargs)
