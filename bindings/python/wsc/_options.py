"""Options shared by the asyncio and blocking APIs, turned into libwsc's option structures.

Each builder returns the structure and a list of the objects it points into; the caller keeps
that list alive until the C call that copies the options (wsc_connect, wsc_server_new) returns.
"""

from __future__ import annotations

import ctypes
import dataclasses
import ssl as _ssl
from typing import Any, Iterable, Mapping

from . import _ffi

# python-websockets' defaults.
DEFAULTS: dict[str, Any] = dict(
    compression="deflate", open_timeout=10.0, ping_interval=20.0, ping_timeout=20.0, close_timeout=10.0,
    max_size=2**20, max_queue=16, write_limit=2**15)


class Headers:
    """HTTP headers: an ordered list of (name, value) pairs, looked up without regard to case.

    ``headers["Origin"]`` is the first value (KeyError when absent), ``get(name, default)``,
    ``get_all(name)`` every value; iteration gives the names, ``items()`` the pairs.
    """

    __slots__ = ("_items",)

    def __init__(self, items: "Iterable[tuple[str, str]] | Mapping[str, str] | None" = None):
        if isinstance(items, Headers):
            items = items._items
        elif isinstance(items, Mapping):
            items = items.items()
        self._items: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (items or ())]

    def get_all(self, name: str) -> list[str]:
        n = name.lower()
        return [v for k, v in self._items if k.lower() == n]

    def get(self, name: str, default: Any = None) -> Any:
        values = self.get_all(name)
        return values[0] if values else default

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return values[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))

    def __iter__(self):
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


def header_array(headers) -> tuple[Any, int, list]:
    """A C array of wsc_header_t over encoded copies (latin-1, as HTTP's bytes)."""
    if isinstance(headers, Headers):
        items = headers.items()
    elif isinstance(headers, Mapping):
        items = list(headers.items())
    else:
        items = list(headers or [])
    arr = (_ffi.Header * max(1, len(items)))()
    keep: list = [arr]
    for i, (k, v) in enumerate(items):
        kb, vb = str(k).encode("latin-1"), str(v).encode("latin-1")
        keep += [kb, vb]
        arr[i].name = ctypes.cast(ctypes.c_char_p(kb), ctypes.c_void_p)
        arr[i].name_len = len(kb)
        arr[i].value = ctypes.cast(ctypes.c_char_p(vb), ctypes.c_void_p)
        arr[i].value_len = len(vb)
    return arr, len(items), keep


def headers_from_c(ptr, n) -> Headers:
    return Headers(_ffi.headers_list(ptr, n))


def _ms(seconds: float | None) -> int:
    """Seconds to the C API's milliseconds; None (no limit) is 0, and a positive value stays > 0."""
    if seconds is None:
        return 0
    if seconds < 0:
        raise ValueError("timeouts and intervals must be >= 0 or None")
    return max(1, int(seconds * 1000)) if seconds else 0


def deflate_options(compression) -> _ffi.DeflateOptions:
    """``"deflate"``; None; or a dict of permessage-deflate parameters: server_max_window_bits,
    client_max_window_bits, server_no_context_takeover, client_no_context_takeover, level,
    mem_level, threshold (bytes below which messages are sent uncompressed)."""
    d = _ffi.DeflateOptions()
    _ffi.lib.wsc_deflate_options_init(ctypes.byref(d), ctypes.sizeof(d))
    if compression is None:
        d.flags |= _ffi.DEFLATE_DISABLE
        return d
    if compression == "deflate":
        return d
    if not isinstance(compression, Mapping):
        raise ValueError(f"unsupported compression: {compression!r}")
    params = dict(compression)
    for key in ("server_max_window_bits", "client_max_window_bits"):
        bits = params.pop(key, None)
        if bits is not None:
            if not 8 <= int(bits) <= 15:
                raise ValueError(f"{key} must be between 8 and 15")
            setattr(d, key, int(bits))
    if params.pop("server_no_context_takeover", False):
        d.flags |= _ffi.DEFLATE_SERVER_NO_CONTEXT_TAKEOVER
    if params.pop("client_no_context_takeover", False):
        d.flags |= _ffi.DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER
    # zlib's ranges (level -1: its default; mem_level 0: 8); libwsc does not check them, and
    # out of range they would only fail at the first compressed send, as "out of memory".
    for key, low, high in (("level", -1, 9), ("mem_level", 0, 9), ("threshold", 0, 2**64 - 1)):
        if key in params:
            value = int(params.pop(key))
            if not low <= value <= high:
                raise ValueError(f"{key} must be between {low} and {high}")
            setattr(d, key, value)
    if params:
        raise ValueError(f"unknown compression parameters: {', '.join(params)}")
    return d


def conn_options(*, compression, max_size, write_limit, ping_interval, ping_timeout, close_timeout,
                 server: bool, **_ignored) -> tuple[_ffi.ConnOptions, list]:
    o = _ffi.ConnOptions()
    _ffi.lib.wsc_conn_options_init(ctypes.byref(o), ctypes.sizeof(o))
    o.max_message_size = 0 if max_size is None else int(max_size)
    if write_limit is not None:  # python-websockets' write_limit: the high-water mark
        high, low = (write_limit, write_limit // 4) if isinstance(write_limit, int) else write_limit
        o.high_water_mark, o.low_water_mark = int(high), int(low)
    o.keepalive_interval_ms = _ms(ping_interval)
    o.keepalive_grace_ms = _ms(ping_timeout) if ping_timeout is not None else 2**31
    if close_timeout is not None:
        o.close_timeout_ms = _ms(close_timeout)
    keep: list = []
    # A server negotiates the extension only when given its options; a client offers it unless told not to.
    if not (server and compression is None):
        d = deflate_options(compression)
        keep.append(d)
        o.deflate = ctypes.pointer(d)
    return o, keep


# ---- TLS ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class TLSOptions:
    """wsc's own TLS options (``wsc_tls_options_t``), for ``ssl=`` on either side.

    Trust: ``ca_file``, ``ca_path`` or ``ca_pem`` (none: the system's store). Our certificate:
    ``cert_file``/``key_file`` or ``cert_pem``/``key_pem`` (required on a server), with
    ``passphrase`` for an encrypted key. ``verify=False`` accepts any server certificate (never in
    production). ``client_cert``: "none", "optional" or "required" (servers). ``servername``:
    the name a client sends and checks instead of the URL's host; ``sni``: False sends none.
    ``sni_certs``: {servername: (cert_file, key_file)} for a server with several names.
    ``min_version``/``max_version``: "TLSv1.2", "TLSv1.3" or an ``ssl.TLSVersion``.
    """

    ca_file: str | None = None
    ca_path: str | None = None
    ca_pem: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    cert_pem: str | None = None
    key_pem: str | None = None
    passphrase: str | None = None
    ciphers: str | None = None
    ciphersuites: str | None = None
    servername: str | None = None
    verify: bool = True
    sni: bool = True
    client_cert: str = "none"
    min_version: Any = None
    max_version: Any = None
    sni_certs: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)


class SSLContext(_ssl.SSLContext):
    """An ``ssl.SSLContext`` that remembers the files it was loaded with, so that wsc (which
    speaks TLS through OpenSSL in C, not through Python's ``ssl``) can load the same ones.
    A plain ``ssl.SSLContext`` works for clients; a server's needs this one (or TLSOptions)."""

    _wsc_chain: tuple | None = None
    _wsc_verify: list

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        super().load_cert_chain(certfile, keyfile, password)
        self._wsc_chain = (certfile, keyfile, password)

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        super().load_verify_locations(cafile, capath, cadata)
        if not hasattr(self, "_wsc_verify"):
            self._wsc_verify = []
        self._wsc_verify.append((cafile, capath, cadata))


def _version(v) -> int:
    if v is None:
        return 0
    if isinstance(v, str):
        v = getattr(_ssl.TLSVersion, v.replace(".", "_"))
    v = int(v)
    return v if v > 0 else 0  # ssl.TLSVersion.MINIMUM_SUPPORTED / MAXIMUM_SUPPORTED: OpenSSL's own limits


def _from_context(ctx: _ssl.SSLContext, server: bool) -> TLSOptions:
    t = TLSOptions()
    if ctx.verify_mode == _ssl.CERT_NONE and not server:
        t.verify = False
    elif server and ctx.verify_mode != _ssl.CERT_NONE:
        t.client_cert = "required" if ctx.verify_mode == _ssl.CERT_REQUIRED else "optional"
    t.min_version, t.max_version = _version(ctx.minimum_version), _version(ctx.maximum_version)
    pems = []
    for cafile, capath, cadata in getattr(ctx, "_wsc_verify", []):
        if cafile:
            with open(cafile, "rb") as f:
                pems.append(f.read().decode("ascii"))
        if capath:
            t.ca_path = capath
        if cadata:
            pems.append(cadata if isinstance(cadata, str) else _ssl.DER_cert_to_PEM_cert(bytes(cadata)))
    if not pems and not t.ca_path:
        # A plain SSLContext's loaded CA certificates (none for the system store's directory,
        # which is wsc's default too).
        pems = [_ssl.DER_cert_to_PEM_cert(der) for der in ctx.get_ca_certs(binary_form=True)]
    if pems:
        t.ca_pem = "".join(pems)
    chain = ctx._wsc_chain if isinstance(ctx, SSLContext) else None
    if chain:
        t.cert_file, t.key_file, password = chain
        if callable(password):
            password = password()
        if isinstance(password, (bytes, bytearray)):
            password = bytes(password).decode()
        t.passphrase = password
    elif server:
        raise ValueError("a server's ssl.SSLContext hides its certificate from wsc: create it with "
                         "wsc.SSLContext (an ssl.SSLContext that remembers its files) or pass wsc.TLSOptions")
    return t


def tls_options(ssl, server: bool, server_hostname: str | None = None) -> tuple[Any, list]:
    """ssl: None/False (client: the defaults for wss://), True, an ssl.SSLContext or TLSOptions."""
    if ssl is None or ssl is False:
        if server or server_hostname is None:
            return None, []
        ssl = TLSOptions()
    elif ssl is True:
        ssl = TLSOptions()
    elif isinstance(ssl, _ssl.SSLContext):
        ssl = _from_context(ssl, server)
    elif not isinstance(ssl, TLSOptions):
        raise TypeError("ssl must be an ssl.SSLContext, wsc.TLSOptions, True or None")
    if server_hostname is not None:
        ssl = dataclasses.replace(ssl, servername=server_hostname)
    o = _ffi.TlsOptions()
    _ffi.lib.wsc_tls_options_init(ctypes.byref(o), ctypes.sizeof(o))
    keep: list = [o]

    def s(value):
        if value is None:
            return None
        b = value.encode() if isinstance(value, str) else bytes(value)
        keep.append(b)
        return b

    for name in ("ca_file", "ca_path", "ca_pem", "cert_file", "key_file", "cert_pem", "key_pem", "passphrase",
                 "ciphers", "ciphersuites", "servername"):
        v = getattr(ssl, name)
        setattr(o, name, s(str(v) if name.endswith(("_file", "_path")) and v is not None else v))
    if not ssl.verify:
        o.flags |= _ffi.TLS_INSECURE_SKIP_VERIFY
    if not ssl.sni:
        o.flags |= _ffi.TLS_NO_SNI
    cc = {"none": 0, "optional": _ffi.TLS_REQUEST_CLIENT_CERT, "required": _ffi.TLS_REQUIRE_CLIENT_CERT}
    if ssl.client_cert not in cc:
        raise ValueError("client_cert must be 'none', 'optional' or 'required'")
    o.flags |= cc[ssl.client_cert]
    o.min_version, o.max_version = _version(ssl.min_version), _version(ssl.max_version)
    if ssl.sni_certs:
        arr = (_ffi.TlsSniCert * len(ssl.sni_certs))()
        keep.append(arr)
        for i, (name, (cert, key)) in enumerate(ssl.sni_certs.items()):
            arr[i].servername, arr[i].cert_file, arr[i].key_file = s(name), s(str(cert)), s(str(key))
        o.sni_certs, o.nsni_certs = arr, len(ssl.sni_certs)
    if server and not (o.cert_file or o.cert_pem or o.nsni_certs):
        raise ValueError("a TLS server needs a certificate and its key")
    return o, keep


# ---- clients and servers --------------------------------------------------------------------

def client_options(*, subprotocols=None, additional_headers=None, origin=None, open_timeout=None, ssl=None,
                   server_hostname=None, follow_redirects=True, max_redirects=10, **conn) -> tuple[Any, list]:
    co = _ffi.ClientOptions()
    _ffi.lib.wsc_client_options_init(ctypes.byref(co), ctypes.sizeof(co))
    o, keep = conn_options(server=False, **conn)
    keep.append(o)
    co.conn = ctypes.pointer(o)
    protos = [p.encode() for p in subprotocols or []]
    if protos:
        parr = (ctypes.c_char_p * len(protos))(*protos)
        keep += [parr, protos]
        co.protocols, co.nprotocols = parr, len(protos)
    harr, n, hkeep = header_array(additional_headers)
    keep += hkeep
    if n:
        co.headers, co.nheaders = harr, n
    if origin:
        ob = origin.encode()
        keep.append(ob)
        co.origin = ob
    if open_timeout:
        co.handshake_timeout_ms = co.connect_timeout_ms = _ms(open_timeout)
    if follow_redirects:
        co.flags |= _ffi.CLIENT_FOLLOW_REDIRECTS
        co.max_redirects = int(max_redirects)
    t, tkeep = tls_options(ssl, False, server_hostname)
    keep += tkeep
    if t is not None:
        co.tls = ctypes.pointer(t)
    return co, keep


def server_options(*, host=None, port=0, unix_path=None, path=None, backlog=0, open_timeout=None, ssl=None,
                   max_headers=0, max_header_bytes=0, **conn) -> tuple[Any, list]:
    so = _ffi.ServerOptions()
    _ffi.lib.wsc_server_options_init(ctypes.byref(so), ctypes.sizeof(so))
    o, keep = conn_options(server=True, **conn)
    keep.append(o)
    so.conn = ctypes.pointer(o)
    for name, value in (("host", host), ("unix_path", unix_path), ("path", path)):
        if value is not None:
            b = str(value).encode()
            keep.append(b)
            setattr(so, name, b)
    so.port, so.backlog = int(port or 0), int(backlog)
    so.max_headers, so.max_header_bytes = int(max_headers), int(max_header_bytes)
    so.flags |= _ffi.SERVER_HANDLE_REQUESTS
    if open_timeout:
        so.handshake_timeout_ms = _ms(open_timeout)
    t, tkeep = tls_options(ssl, True)
    keep += tkeep
    if t is not None:
        so.tls = ctypes.pointer(t)
    return so, keep
