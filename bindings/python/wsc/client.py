"""``connect()``: the asyncio client (python-websockets' ``websockets.asyncio.client.connect``)."""

from __future__ import annotations

import asyncio
import ctypes
from typing import Iterable, Mapping

from . import _ffi
from ._driver import Opener, driver
from .connection import Connection
from .exceptions import InvalidHandshake, InvalidStatus, InvalidURI, PayloadTooBig, WscError


class ClientConnection(Connection):
    """A client's connection."""


def _header_array(headers):
    items = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
    arr = (_ffi.Header * max(1, len(items)))()
    keep = []
    for i, (k, v) in enumerate(items):
        kb, vb = str(k).encode("latin-1"), str(v).encode("latin-1")
        keep += [kb, vb]
        arr[i].name = ctypes.cast(ctypes.c_char_p(kb), ctypes.c_void_p)
        arr[i].name_len = len(kb)
        arr[i].value = ctypes.cast(ctypes.c_char_p(vb), ctypes.c_void_p)
        arr[i].value_len = len(vb)
    return arr, len(items), keep


def _conn_options(max_size: int | None, compression: str | None):
    o = _ffi.ConnOptions()
    _ffi.lib.wsc_conn_options_init(ctypes.byref(o), ctypes.sizeof(o))
    o.max_message_size = 0 if max_size is None else max_size
    d = _ffi.DeflateOptions()
    _ffi.lib.wsc_deflate_options_init(ctypes.byref(d), ctypes.sizeof(d))
    if compression is None:
        d.flags |= _ffi.DEFLATE_DISABLE
    elif compression != "deflate":
        raise ValueError(f"unsupported compression: {compression}")
    o.deflate = ctypes.pointer(d)
    return o, d


class connect(Opener):
    """``async with connect(uri) as ws`` or ``ws = await connect(uri)``.

    Options: ``subprotocols``, ``additional_headers``, ``origin``, ``compression`` ("deflate" or
    None), ``max_size`` (bytes; None: no limit), ``open_timeout`` (seconds).
    """

    def __init__(self, uri: str, *, subprotocols: Iterable[str] | None = None,
                 additional_headers=None, origin: str | None = None, compression: str | None = "deflate",
                 max_size: int | None = 2**20, open_timeout: float | None = 10):
        self.uri = uri
        self.subprotocols = list(subprotocols or [])
        self.headers = additional_headers
        self.origin = origin
        self.compression = compression
        self.max_size = max_size
        self.open_timeout = open_timeout

    async def _open(self) -> ClientConnection:
        scheme = self.uri.split(":", 1)[0].lower() if ":" in self.uri else ""
        if scheme not in ("ws", "wss", "ws+unix"):
            raise InvalidURI(self.uri, "scheme isn't ws, wss or ws+unix")
        drv = driver()
        ws = ClientConnection(drv)
        conn_opts, deflate = _conn_options(self.max_size, self.compression)
        co = _ffi.ClientOptions()
        _ffi.lib.wsc_client_options_init(ctypes.byref(co), ctypes.sizeof(co))
        protos = [p.encode() for p in self.subprotocols]
        parr = (ctypes.c_char_p * max(1, len(protos)))(*protos)
        co.protocols, co.nprotocols = (parr, len(protos)) if protos else (None, 0)
        harr, n, keep = _header_array(self.headers)
        if n:
            co.headers, co.nheaders = harr, n
        origin = self.origin.encode() if self.origin else None
        co.origin = origin
        co.conn = ctypes.pointer(conn_opts)
        if self.open_timeout:
            co.handshake_timeout_ms = int(self.open_timeout * 1000)
            co.connect_timeout_ms = int(self.open_timeout * 1000)
        handle = ctypes.c_void_p()
        rc = _ffi.lib.wsc_connect(ctypes.byref(handle), drv.loop, self.uri.encode(), ctypes.byref(co), ws._cb, None)
        del keep, parr, deflate, conn_opts  # copied by wsc_connect
        if rc == _ffi.EURL:
            raise InvalidURI(self.uri, _ffi.strerror(rc))
        if rc < 0:
            raise WscError(f"connect: {_ffi.strerror(rc)}", rc, _ffi.err_name(rc))
        ws._attach(handle.value)
        drv.kick()
        try:
            await ws._opened
        except WscError as e:
            unexpected = getattr(ws, "_unexpected", None)
            if unexpected is not None:
                raise InvalidStatus(*unexpected) from None
            err, msg = ws._error
            raise InvalidHandshake(msg or str(e)) from None
        return ws
