"""ctypes declarations of libwsc's C API: every structure, argtypes and restype, declared once.

The library is looked up, in order: the ``WSC_LIBRARY`` environment variable (a path), beside
this package, in the source tree's ``build/`` folder, then on the system's library path. One
with another major version (or, before 1.0, another minor version) is refused.

Every libwsc call returns at once (the loop runs in non-blocking passes), so the functions are
called through ``ctypes.PyDLL``, which keeps the GIL: a call that released it would have to win
it back afterwards, and behind a CPU-bound thread that waits up to the switch interval (5 ms),
once per call and once per callback. Only the blocking API's loop thread, which sleeps in
``wsc_loop_run``, calls it through ``blocking`` (``ctypes.CDLL``), which lets the GIL go.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_int32, c_int64, c_size_t,
                    c_uint16, c_uint32, c_uint64, c_void_p)
from pathlib import Path

# The C API version these declarations follow (include/wsc/version.h).
API_MAJOR, API_MINOR = 0, 1

# ---- constants (include/wsc/*.h) ----------------------------------------------------------

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

RUN_DEFAULT, RUN_ONCE, RUN_NOWAIT = 0, 1, 2

EV_OPEN, EV_MESSAGE, EV_FRAGMENT, EV_PING, EV_PONG, EV_CLOSE, EV_ERROR = 1, 2, 3, 4, 5, 6, 7
EV_UPGRADE, EV_UNEXPECTED_RESPONSE, EV_DRAIN, EV_TIMEOUT, EV_REDIRECT, EV_RECONNECTING = (
    8, 9, 10, 11, 12, 13)

SERVER_LISTENING, SERVER_REQUEST, SERVER_CONNECTION, SERVER_CLIENT_ERROR = 1, 2, 3, 4
SERVER_ERROR, SERVER_CLOSE, SERVER_HTTP_REQUEST, SERVER_REQUEST_CANCELLED = 5, 6, 7, 8

SERVER_HANDLE_REQUESTS = 0x4
CLIENT_FOLLOW_REDIRECTS = 0x1
DEFLATE_SERVER_NO_CONTEXT_TAKEOVER, DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER, DEFLATE_DISABLE = 0x1, 0x2, 0x4
SEND_BACKPRESSURE = 1
TLS_INSECURE_SKIP_VERIFY, TLS_REQUEST_CLIENT_CERT, TLS_REQUIRE_CLIENT_CERT, TLS_NO_SNI = 0x1, 0x2, 0x4, 0x8
TLS_1_2, TLS_1_3 = 0x0303, 0x0304

# Error codes used by the binding (include/wsc/error.h; never renumbered).
ESTATE, ECLOSED, EURL, EUNEXPECTED_RESPONSE, EHANDSHAKE_TIMEOUT = -7, -10, -200, -201, -206
ECONNREFUSED, ETIMEDOUT, ENOTFOUND = -300, -302, -306
ERR_UNSUPPORTED_MESSAGE_LENGTH = -108
SEND_MORE = 0x1


# ---- structures -----------------------------------------------------------------------------

class Header(Structure):
    _fields_ = [("name", c_void_p), ("name_len", c_size_t), ("value", c_void_p), ("value_len", c_size_t)]


class Addr(Structure):
    _fields_ = [("address", ctypes.c_char * 108), ("family", c_uint32), ("port", c_uint32)]


class DeflateOptions(Structure):
    _fields_ = [("size", c_uint32), ("flags", c_uint32), ("server_max_window_bits", c_uint32),
                ("client_max_window_bits", c_uint32), ("level", c_int32), ("mem_level", c_uint32),
                ("threshold", c_uint64)]


class ConnOptions(Structure):
    _fields_ = [("size", c_uint32), ("flags", c_uint32), ("max_message_size", c_uint64),
                ("max_frame_size", c_uint64), ("max_fragments", c_uint32), ("close_timeout_ms", c_uint32),
                ("fragment_threshold", c_uint64), ("high_water_mark", c_uint64), ("low_water_mark", c_uint64),
                ("max_buffered", c_uint64), ("overflow_policy", c_uint32), ("reserved_", c_uint32),
                ("keepalive_interval_ms", c_uint32), ("keepalive_grace_ms", c_uint32),
                ("idle_timeout_ms", c_uint32), ("tcp_keepalive_ms", c_uint32),
                ("deflate", POINTER(DeflateOptions))]


class TlsSniCert(Structure):
    _fields_ = [("servername", c_char_p), ("cert_file", c_char_p), ("key_file", c_char_p),
                ("cert_pem", c_char_p), ("key_pem", c_char_p), ("passphrase", c_char_p)]


class TlsOptions(Structure):
    _fields_ = [("size", c_uint32), ("flags", c_uint32), ("ca_file", c_char_p), ("ca_path", c_char_p),
                ("ca_pem", c_char_p), ("cert_file", c_char_p), ("key_file", c_char_p), ("cert_pem", c_char_p),
                ("key_pem", c_char_p), ("passphrase", c_char_p), ("ciphers", c_char_p), ("ciphersuites", c_char_p),
                ("servername", c_char_p), ("min_version", c_uint32), ("max_version", c_uint32),
                ("sni_certs", POINTER(TlsSniCert)), ("nsni_certs", c_size_t)]


class TlsInfo(Structure):
    _fields_ = [("size", c_uint32), ("verify_result", c_int32), ("handshake_done", c_uint32),
                ("reserved_", c_uint32), ("version", c_char_p), ("cipher", c_char_p), ("alpn", c_char_p),
                ("servername", c_char_p), ("peer_subject", c_char_p), ("peer_issuer", c_char_p),
                ("verify_message", c_char_p)]


class ClientOptions(Structure):
    _fields_ = [("size", c_uint32), ("flags", c_uint32), ("origin", c_char_p), ("protocols", POINTER(c_char_p)),
                ("nprotocols", c_size_t), ("headers", POINTER(Header)), ("nheaders", c_size_t),
                ("connect_timeout_ms", c_uint32), ("handshake_timeout_ms", c_uint32),
                ("conn", POINTER(ConnOptions)), ("max_redirects", c_uint32), ("reconnect_min_ms", c_uint32),
                ("reconnect_max_ms", c_uint32), ("reconnect_max_attempts", c_uint32),
                ("offline_queue_bytes", c_uint64), ("tls", POINTER(TlsOptions))]


class ServerOptions(Structure):
    _fields_ = [("size", c_uint32), ("flags", c_uint32), ("host", c_char_p), ("unix_path", c_char_p),
                ("path", c_char_p), ("port", c_uint32), ("backlog", c_int32), ("max_headers", c_uint32),
                ("max_header_bytes", c_uint32), ("handshake_timeout_ms", c_uint32), ("reserved_", c_uint32),
                ("conn", POINTER(ConnOptions)), ("tls", POINTER(TlsOptions)),
                ("origins", POINTER(c_char_p)), ("origin_count", c_size_t)]


class ConnEvent(Structure):
    _fields_ = [("type", c_uint32), ("opcode", c_uint32), ("flags", c_uint32), ("error", c_int32),
                ("code", c_uint32), ("was_clean", c_uint32), ("data", c_void_p), ("len", c_size_t),
                ("message", c_char_p), ("headers", POINTER(Header)), ("nheaders", c_size_t),
                ("attempt", c_uint32), ("delay_ms", c_uint32)]


class ServerEvent(Structure):
    _fields_ = [("type", c_uint32), ("error", c_int32), ("code", c_uint32), ("reserved_", c_uint32),
                ("message", c_char_p), ("request", c_void_p), ("conn", c_void_p)]


# The event comes as an address, read in place with event_at (one object, not a pointer and its
# contents); bytes_at copies borrowed bytes in one C call (ctypes.string_at costs twice as much).
CONN_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_void_p)
event_at = ConnEvent.from_address
bytes_at = ctypes.pythonapi.PyBytes_FromStringAndSize
bytes_at.restype, bytes_at.argtypes = ctypes.py_object, [c_void_p, ctypes.c_ssize_t]
SERVER_CB = CFUNCTYPE(None, c_void_p, POINTER(ServerEvent), c_void_p)
SEND_CB = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
NO_SEND_CB = SEND_CB()  # NULL: no completion wanted
POST_CB = CFUNCTYPE(None, c_void_p, c_void_p)
WALK_CB = CFUNCTYPE(c_int, c_void_p, c_void_p)
NO_WALK_CB = WALK_CB()


# ---- loading --------------------------------------------------------------------------------

class LibraryError(ImportError):
    """libwsc could not be found, or is not a version this package can use."""


def _candidates():
    env = os.environ.get("WSC_LIBRARY")
    if env:
        yield env
        return
    here = Path(__file__).resolve().parent
    yield str(here / "libwsc.so")
    yield str(here.parent.parent.parent / "build" / "libwsc.so")  # <source tree>/bindings/python/wsc
    found = ctypes.util.find_library("wsc")
    if found:
        yield found


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            return ctypes.PyDLL(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise LibraryError("libwsc not found (set WSC_LIBRARY to its path); tried: " + "; ".join(errors))


lib, path = _load()


_SIGNATURES: list[tuple] = []


def _declare(name, restype, *argtypes):
    _SIGNATURES.append((name, restype, list(argtypes)))


_P = c_void_p
# version, errors
_declare("wsc_version", c_uint32)
_declare("wsc_version_string", c_char_p)
_declare("wsc_strerror", c_char_p, c_int)
_declare("wsc_err_name", c_char_p, c_int)
_declare("wsc_err_close_code", c_uint16, c_int)
_declare("wsc_last_error_message", c_char_p)
# loop
_declare("wsc_loop_new", c_int, POINTER(_P), _P)
_declare("wsc_loop_run", c_int, _P, c_uint32)
_declare("wsc_loop_free", c_int, _P)
_declare("wsc_loop_backend_fd", c_int, _P)
_declare("wsc_loop_backend_timeout", c_int, _P)
_declare("wsc_loop_handle_count", c_size_t, _P)
_declare("wsc_loop_post", c_int, _P, POST_CB, _P)
_declare("wsc_loop_keep_alive", None, _P, c_int)
_declare("wsc_loop_stop", None, _P)
# options
_declare("wsc_conn_options_init", c_int, POINTER(ConnOptions), c_size_t)
_declare("wsc_client_options_init", c_int, POINTER(ClientOptions), c_size_t)
_declare("wsc_server_options_init", c_int, POINTER(ServerOptions), c_size_t)
_declare("wsc_deflate_options_init", c_int, POINTER(DeflateOptions), c_size_t)
_declare("wsc_tls_options_init", c_int, POINTER(TlsOptions), c_size_t)
# connections
_declare("wsc_connect", c_int, POINTER(_P), _P, c_char_p, POINTER(ClientOptions), CONN_CB, _P)
_declare("wsc_conn_set_callback", None, _P, CONN_CB, _P)
_declare("wsc_conn_send", c_int, _P, c_uint32, c_char_p, c_size_t, c_uint32, SEND_CB, _P)
_declare("wsc_conn_send_threadsafe", c_int, _P, c_uint64, c_uint32, c_char_p, c_size_t, SEND_CB, _P)
_declare("wsc_conn_ping", c_int, _P, c_char_p, c_size_t, SEND_CB, _P)
_declare("wsc_conn_pong", c_int, _P, c_char_p, c_size_t, SEND_CB, _P)
_declare("wsc_conn_close", c_int, _P, c_uint32, c_char_p, c_size_t)
_declare("wsc_conn_terminate", None, _P)
_declare("wsc_conn_buffered_amount", c_uint64, _P)
_declare("wsc_conn_pause", None, _P)
_declare("wsc_conn_resume", None, _P)
_declare("wsc_conn_ready_state", c_uint32, _P)
_declare("wsc_conn_protocol", c_char_p, _P)
_declare("wsc_conn_extensions", c_char_p, _P)
_declare("wsc_conn_url", c_char_p, _P)
_declare("wsc_conn_remote_address", c_int, _P, POINTER(Addr))
_declare("wsc_conn_local_address", c_int, _P, POINTER(Addr))
_declare("wsc_conn_rtt_us", c_int64, _P)
_declare("wsc_conn_id", c_uint64, _P)
_declare("wsc_conn_tls_info", c_int, _P, POINTER(TlsInfo))
# servers and requests
_declare("wsc_server_new", c_int, POINTER(_P), _P, POINTER(ServerOptions), SERVER_CB, _P)
_declare("wsc_server_address", c_int, _P, POINTER(Addr))
_declare("wsc_server_close", None, _P, c_uint32)
_declare("wsc_server_shutdown", None, _P, c_uint32, c_uint32, c_uint32)
_declare("wsc_server_broadcast", c_int, _P, c_uint32, c_char_p, c_size_t, WALK_CB, _P, POINTER(c_size_t))
_declare("wsc_server_connection_count", c_size_t, _P)
_declare("wsc_request_path", c_char_p, _P)
_declare("wsc_request_target", c_char_p, _P)
_declare("wsc_request_header_count", c_size_t, _P)
_declare("wsc_request_header", c_int, _P, c_size_t, POINTER(Header))
_declare("wsc_request_protocol_count", c_size_t, _P)
_declare("wsc_request_protocol", c_char_p, _P, c_size_t)
_declare("wsc_request_add_header", c_int, _P, c_char_p, c_char_p)
_declare("wsc_request_accept", c_int, _P, c_char_p)
_declare("wsc_request_reject", c_int, _P, c_uint32, c_char_p, c_char_p, c_size_t)
_declare("wsc_request_defer", c_int, _P)



def declared(dll):
    """dll with every signature above applied (the same library through CDLL or PyDLL)."""
    for name, restype, argtypes in _SIGNATURES:
        fn = getattr(dll, name)
        fn.restype, fn.argtypes = restype, argtypes
    return dll


declared(lib)
blocking = declared(ctypes.CDLL(path))

version = lib.wsc_version()
version_string = lib.wsc_version_string().decode()
_major, _minor = version // 10000, version // 100 % 100
if _major != API_MAJOR or (_major == 0 and _minor != API_MINOR):
    raise LibraryError(f"{path} is libwsc {version_string}; this package needs {API_MAJOR}.{API_MINOR}.x")


def err_name(code: int) -> str:
    return lib.wsc_err_name(code).decode()


def strerror(code: int) -> str:
    return lib.wsc_strerror(code).decode()


def headers_list(ptr, n) -> list[tuple[str, str]]:
    """Borrowed C headers as (name, value) pairs (latin-1, as HTTP's bytes)."""
    out = []
    for i in range(n):
        h = ptr[i]
        out.append((ctypes.string_at(h.name, h.name_len).decode("latin-1"),
                    ctypes.string_at(h.value, h.value_len).decode("latin-1")))
    return out
