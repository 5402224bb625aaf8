"""wsc: WebSocket client and server over libwsc (ctypes, the C API only).

asyncio (python-websockets' shape): ``wsc.connect``, ``wsc.serve``, ``wsc.broadcast``;
blocking, for scripts and threads: ``wsc.sync.connect``, ``wsc.sync.serve``.
"""

from . import _ffi
from ._options import Headers, SSLContext, TLSOptions
from .client import ClientConnection, connect, unix_connect
from .connection import Connection
from .exceptions import (ConnectionClosed, ConnectionClosedError, ConnectionClosedOK, InvalidHandshake,
                         InvalidStatus, InvalidURI, PayloadTooBig, WscError)
from .server import Request, Server, ServerConnection, broadcast, serve, unix_serve

__version__ = "0.1.0"
libwsc_version = _ffi.version_string

__all__ = ["connect", "unix_connect", "serve", "unix_serve", "broadcast", "Connection", "ClientConnection",
           "ServerConnection", "Server", "Request", "Headers", "TLSOptions", "SSLContext", "WscError",
           "ConnectionClosed", "ConnectionClosedOK", "ConnectionClosedError", "InvalidHandshake",
           "InvalidStatus", "InvalidURI", "PayloadTooBig", "libwsc_version"]
