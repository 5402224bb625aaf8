#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora: tests/fuzz/corpus/<target>/<name>.

Each seed starts with the configuration bytes its target reads (see the comment at the top of
tests/fuzz/fuzz_<target>.cc), followed by valid or nearly valid protocol data: RFC 6455 and
RFC 7692 example frames, opening handshakes, Sec-WebSocket-Extensions values, deflate streams.
The corpus folders are rewritten from scratch: add seeds here, not by hand.

Usage: /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3
ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])  # RFC 6455 §5.7

# ---- frames ----------------------------------------------------------------------------------
# mode: bit 0 client role; bits 1-2 extension mode; 8 NO_ASSEMBLE; 16 SKIP_UTF8; 32 pause;
# 64 pool / free in the third event; 128 split feed. limits: max_message | fragments << 3 |
# max_frame << 6 (indexes into fuzz_frames.cc's tables).
SERVER, CLIENT = 0x00, 0x01
PLAIN, RSV1_REPORTED, INFLATE, INFLATE_NO_CTX = 0 << 1, 1 << 1, 2 << 1, 3 << 1
NO_ASSEMBLE, SKIP_UTF8, PAUSE, EXTRA, SPLIT = 8, 16, 32, 64, 128
DEFAULT_LIMITS = 7 | 6 << 3          # 100 MiB per message, 131072 fragments, frames unbounded
SMALL_LIMITS = 2 | 2 << 3 | 2 << 6   # 16 bytes, 2 fragments, 10-byte frames
TIGHT_LIMITS = 5 | 4 << 3 | 3 << 6   # 1000 bytes, 8 fragments, 300-byte frames

FIN, RSV1 = 0x80, 0x40
TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def frame(opcode, payload=b"", fin=True, rsv1=False, mask=None, length_form=None):
    """One frame; mask: a 4-byte key or None; length_form: force 16 or 64 for the length."""
    b0 = (FIN if fin else 0) | (RSV1 if rsv1 else 0) | opcode
    n = len(payload)
    m = 0x80 if mask else 0
    if length_form == 64 or n > 0xFFFF:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    elif length_form == 16 or n > 125:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | n])
    if mask:
        head += mask
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + payload


def deflate(data, level=6, wbits=15):
    """A permessage-deflate payload: raw deflate, sync-flushed, without the 00 00 ff ff tail."""
    z = zlib.compressobj(level, zlib.DEFLATED, -wbits)
    out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def frames_seeds():
    seeds = {}

    def add(name, stream, mode_bits=(), limits=DEFAULT_LIMITS, splits=(0x05, 0x0A)):
        """Masked for the server role, unmasked for the client role, each with its mode bits."""
        for role, key in ((SERVER, MASK), (CLIENT, None)):
            data = stream(key)
            for i, bits in enumerate(mode_bits or (0,)):
                split = splits[i % len(splits)]
                tag = "server" if role == SERVER else "client"
                seeds["%s-%s-%d" % (name, tag, i)] = bytes([role | bits, limits, split]) + data

    # RFC 6455 §5.7 examples.
    add("hello", lambda k: frame(TEXT, b"Hello", mask=k), (PLAIN, PLAIN | PAUSE, PLAIN | SPLIT | INFLATE))
    add("fragmented-hello", lambda k: frame(TEXT, b"Hel", fin=False, mask=k) + frame(CONT, b"lo", mask=k),
        (PLAIN, NO_ASSEMBLE, INFLATE | EXTRA | SPLIT))
    add("ping-pong", lambda k: frame(PING, b"Hello", mask=k) + frame(PONG, b"Hello", mask=k), (PLAIN, PAUSE))
    add("binary-256", lambda k: frame(BINARY, bytes(range(256)), mask=k), (PLAIN, NO_ASSEMBLE | SPLIT | INFLATE))
    add("binary-len64", lambda k: frame(BINARY, b"\x00\x01\x02", mask=k, length_form=64), (PLAIN,))
    add("binary-len16", lambda k: frame(BINARY, b"abc", mask=k, length_form=16), (PLAIN,))
    add("empty-text", lambda k: frame(TEXT, b"", mask=k) + frame(BINARY, b"", mask=k), (PLAIN,))
    add("utf8-text", lambda k: frame(TEXT, "κόσμε €".encode(), mask=k), (PLAIN, SKIP_UTF8))
    add("utf8-split-across-fragments",
        lambda k: frame(TEXT, "κό".encode()[:3], fin=False, mask=k) + frame(CONT, "κό".encode()[3:], mask=k),
        (PLAIN, NO_ASSEMBLE))
    add("control-inside-fragments",
        lambda k: frame(TEXT, b"frag", fin=False, mask=k) + frame(PING, b"p", mask=k) + frame(CONT, b"ment", mask=k),
        (PLAIN, NO_ASSEMBLE | PAUSE, EXTRA))
    add("close-1000", lambda k: frame(CLOSE, struct.pack(">H", 1000) + b"bye", mask=k) + frame(TEXT, b"after", mask=k),
        (PLAIN, PAUSE))
    add("close-empty", lambda k: frame(CLOSE, b"", mask=k), (PLAIN,))
    add("messages-then-close",
        lambda k: b"".join(frame(TEXT, b"message %d" % i, mask=k) for i in range(5)) +
        frame(CLOSE, struct.pack(">H", 1001), mask=k), (PLAIN, PAUSE | EXTRA, SPLIT | INFLATE))
    add("many-fragments", lambda k: frame(BINARY, b"a", fin=False, mask=k) +
        b"".join(frame(CONT, b"b", fin=False, mask=k) for _ in range(9)) + frame(CONT, b"c", mask=k),
        (PLAIN, NO_ASSEMBLE), limits=TIGHT_LIMITS)
    add("over-small-limits", lambda k: frame(TEXT, b"0123456789abcdefXYZ", mask=k), (PLAIN, NO_ASSEMBLE),
        limits=SMALL_LIMITS)
    # Near misses: each fails the connection.
    add("reserved-opcode", lambda k: frame(0x3, b"x", mask=k), (PLAIN,))
    add("rsv2", lambda k: bytes([0xA1]) + frame(TEXT, b"x", mask=k)[1:], (PLAIN,))
    add("rsv1-uncompressed", lambda k: frame(TEXT, b"Hello", rsv1=True, mask=k), (PLAIN, RSV1_REPORTED))
    add("long-ping", lambda k: frame(PING, b"p" * 126, mask=k), (PLAIN,))
    add("fragmented-ping", lambda k: frame(PING, b"p", fin=False, mask=k), (PLAIN,))
    add("bad-close-code", lambda k: frame(CLOSE, struct.pack(">H", 1005), mask=k), (PLAIN,))
    add("close-one-byte", lambda k: frame(CLOSE, b"\x03", mask=k), (PLAIN,))
    add("bad-utf8", lambda k: frame(TEXT, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", mask=k),
        (PLAIN, NO_ASSEMBLE))
    add("continuation-first", lambda k: frame(CONT, b"x", mask=k), (PLAIN,))
    add("text-inside-fragments", lambda k: frame(TEXT, b"a", fin=False, mask=k) + frame(TEXT, b"b", mask=k), (PLAIN,))
    add("length-top-bit", lambda k: bytes([0x82, (0x80 if k else 0) | 127, 0x80]) + bytes(7) + (k or b""), (PLAIN,))
    add("announced-not-sent", lambda k: bytes([0x82, (0x80 if k else 0) | 127, 0, 0, 0, 1, 0, 0, 0, 0]) +
        (k or b"") + b"only this", (PLAIN,))

    # RFC 7692 §7.2.3 examples, compressed "Hello" (the client role reads them as sent by a
    # server, unmasked; the server role reads them masked).
    hello = bytes.fromhex("f248cdc9c90700")
    add("deflate-hello", lambda k: frame(TEXT, hello, rsv1=True, mask=k), (INFLATE, INFLATE_NO_CTX | PAUSE, RSV1_REPORTED))
    add("deflate-hello-fragmented", lambda k: frame(TEXT, hello[:3], fin=False, rsv1=True, mask=k) +
        frame(CONT, hello[3:], mask=k), (INFLATE, INFLATE | NO_ASSEMBLE | SPLIT))
    add("deflate-hello-twice-context-takeover", lambda k: frame(TEXT, hello, rsv1=True, mask=k) +
        frame(TEXT, bytes.fromhex("f200110000"), rsv1=True, mask=k), (INFLATE, INFLATE | PAUSE | EXTRA))
    add("deflate-stored-block", lambda k: frame(TEXT, bytes.fromhex("000500faff48656c6c6f00"), rsv1=True, mask=k),
        (INFLATE,))
    add("deflate-bfinal", lambda k: frame(TEXT, bytes.fromhex("f348cdc9c9070000"), rsv1=True, mask=k), (INFLATE,))
    add("deflate-two-blocks", lambda k: frame(TEXT, bytes.fromhex("f248050000 00ffff cac9c90700".replace(" ", "")),
                                              rsv1=True, mask=k), (INFLATE_NO_CTX,))
    add("deflate-and-plain", lambda k: frame(BINARY, deflate(bytes(range(200)) * 3), rsv1=True, mask=k) +
        frame(BINARY, b"plain", mask=k), (INFLATE, INFLATE | NO_ASSEMBLE))
    add("deflate-bomb", lambda k: frame(BINARY, deflate(bytes(1 << 20), 9), rsv1=True, mask=k),
        (INFLATE, INFLATE | NO_ASSEMBLE), limits=TIGHT_LIMITS)
    add("deflate-corrupt", lambda k: frame(TEXT, b"\xff\xff\xff\x01\x02", rsv1=True, mask=k), (INFLATE,))
    add("deflate-bad-utf8", lambda k: frame(TEXT, deflate(b"abc\xff\xfedef"), rsv1=True, mask=k), (INFLATE,))
    return seeds


# ---- request ---------------------------------------------------------------------------------
# config: bits 0-1 limits; 4 the server's path is /chat; 8 no permessage-deflate. Then the
# server's deflate options byte and the split byte.
def request(lines, body=b""):
    return b"".join(l + b"\r\n" for l in lines) + b"\r\n" + body


RFC_REQUEST = [b"GET /chat HTTP/1.1", b"Host: server.example.com", b"Upgrade: websocket", b"Connection: Upgrade",
               b"Sec-WebSocket-Key: " + KEY, b"Origin: http://example.com", b"Sec-WebSocket-Protocol: chat, superchat",
               b"Sec-WebSocket-Version: 13"]


def replace(lines, name, value):
    """The lines with header `name` set to value (None: removed)."""
    out = [l for l in lines if not l.lower().startswith(name.lower() + b":")]
    return out + ([name + b": " + value] if value is not None else [])


def request_seeds():
    s = {}
    pmd = b"permessage-deflate; client_max_window_bits"
    s["rfc6455"] = bytes([0, 0, 0x0A]) + request(RFC_REQUEST)
    s["rfc6455-path"] = bytes([4, 0, 0x05]) + request(RFC_REQUEST)
    s["rfc6455-byte-by-byte"] = bytes([0, 0, 0x00]) + request(RFC_REQUEST)
    s["deflate-offer"] = bytes([0, 0, 0x0A]) + request(replace(RFC_REQUEST, b"Sec-WebSocket-Extensions", pmd))
    s["deflate-offers-server-options"] = bytes([0, 0x01 | 3 << 2 | 2 << 5, 0x09]) + request(
        RFC_REQUEST + [b"Sec-WebSocket-Extensions: x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10",
                       b"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
                       b"client_max_window_bits=9, permessage-deflate"])
    s["deflate-offer-quoted"] = bytes([0, 2, 0x0A]) + request(
        replace(RFC_REQUEST, b"Sec-WebSocket-Extensions", b'permessage-deflate; client_max_window_bits="12"'))
    s["deflate-not-configured"] = bytes([8, 0, 0x0A]) + request(replace(RFC_REQUEST, b"Sec-WebSocket-Extensions", pmd))
    s["frames-after-request"] = bytes([0, 0, 0x0A]) + request(RFC_REQUEST) + frame(TEXT, b"Hello", mask=MASK)
    s["query-and-lowercase"] = bytes([4, 0, 0x0A]) + request(
        [b"GET /chat?room=1 HTTP/1.1", b"host: a", b"upgrade: WebSocket", b"connection: keep-alive, Upgrade",
         b"sec-websocket-key: " + KEY, b"sec-websocket-version: 13", b"cookie: a=1; b=2"])
    s["plain-http"] = bytes([0, 0, 0x0A]) + request([b"GET / HTTP/1.1", b"Host: a"])
    s["post"] = bytes([0, 0, 0x0A]) + request([b"POST /chat HTTP/1.1"] + RFC_REQUEST[1:] + [b"Content-Length: 4"], b"body")
    s["http-1.0"] = bytes([0, 0, 0x0A]) + request([b"GET /chat HTTP/1.0"] + RFC_REQUEST[1:])
    s["no-key"] = bytes([0, 0, 0x0A]) + request(replace(RFC_REQUEST, b"Sec-WebSocket-Key", None))
    s["short-key"] = bytes([0, 0, 0x0A]) + request(replace(RFC_REQUEST, b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZQ=="))
    s["version-8"] = bytes([0, 0, 0x0A]) + request(replace(RFC_REQUEST, b"Sec-WebSocket-Version", b"8"))
    s["no-host"] = bytes([0, 0, 0x0A]) + request(replace(RFC_REQUEST, b"Host", None))
    s["duplicate-protocol"] = bytes([0, 0, 0x0A]) + request(
        replace(RFC_REQUEST, b"Sec-WebSocket-Protocol", b"chat, chat"))
    s["bad-protocol"] = bytes([0, 0, 0x0A]) + request(replace(RFC_REQUEST, b"Sec-WebSocket-Protocol", b"chat, [x]"))
    s["wrong-path"] = bytes([4, 0, 0x0A]) + request([b"GET /other HTTP/1.1"] + RFC_REQUEST[1:])
    s["too-many-headers"] = bytes([2, 0, 0x0A]) + request(RFC_REQUEST)
    s["too-large"] = bytes([3, 0, 0x0A]) + request(RFC_REQUEST)
    s["malformed-header"] = bytes([0, 0, 0x0A]) + request(RFC_REQUEST[:3] + [b"Bad Header"] + RFC_REQUEST[3:])
    s["truncated"] = bytes([0, 0, 0x0A]) + request(RFC_REQUEST)[:60]
    return s


# ---- response --------------------------------------------------------------------------------
# config: bits 0-1 offered protocols (none, chat, chat+superchat, v2.example+chat); 4 no deflate
# offer; 8 end of stream; 16 follow redirects. Then the client's deflate options, the split.
RFC_RESPONSE = [b"HTTP/1.1 101 Switching Protocols", b"Upgrade: websocket", b"Connection: Upgrade",
                b"Sec-WebSocket-Accept: " + ACCEPT]


def response_seeds():
    s = {}
    s["rfc6455"] = bytes([0, 0, 0x0A]) + request(RFC_RESPONSE)
    s["rfc6455-byte-by-byte"] = bytes([0, 0, 0x00]) + request(RFC_RESPONSE)
    s["protocol-chat"] = bytes([2, 0, 0x0A]) + request(RFC_RESPONSE + [b"Sec-WebSocket-Protocol: chat"])
    s["deflate"] = bytes([0, 0, 0x0A]) + request(RFC_RESPONSE + [b"Sec-WebSocket-Extensions: permessage-deflate"])
    s["deflate-parameters"] = bytes([1, 0x01 | 3 << 2 | 3 << 5, 0x05]) + request(
        RFC_RESPONSE + [b"Sec-WebSocket-Protocol: chat", b"Sec-WebSocket-Extensions: permessage-deflate; "
                        b"server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11"])
    s["frames-after-response"] = bytes([0, 0, 0x0A]) + request(RFC_RESPONSE) + frame(TEXT, b"Hello")
    s["wrong-accept"] = bytes([0, 0, 0x0A]) + request(replace(RFC_RESPONSE, b"Sec-WebSocket-Accept", KEY))
    s["no-upgrade"] = bytes([0, 0, 0x0A]) + request(replace(RFC_RESPONSE, b"Upgrade", None))
    s["unoffered-protocol"] = bytes([0, 0, 0x0A]) + request(RFC_RESPONSE + [b"Sec-WebSocket-Protocol: chat"])
    s["missing-protocol"] = bytes([3, 0, 0x0A]) + request(RFC_RESPONSE)
    s["unoffered-extension"] = bytes([4, 0, 0x0A]) + request(RFC_RESPONSE + [b"Sec-WebSocket-Extensions: foo"])
    s["deflate-window-above-offer"] = bytes([0, 3 << 2, 0x0A]) + request(
        RFC_RESPONSE + [b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=15"])
    s["redirect"] = bytes([16, 0, 0x0A]) + request([b"HTTP/1.1 302 Found", b"Location: /elsewhere",
                                                    b"Content-Length: 0"])
    s["not-found-with-body"] = bytes([0, 0, 0x0A]) + request([b"HTTP/1.1 404 Not Found", b"Content-Length: 9"],
                                                             b"not found")
    s["chunked-body"] = bytes([0, 0, 0x0A]) + request([b"HTTP/1.1 403 Forbidden", b"Transfer-Encoding: chunked"],
                                                      b"4\r\nnope\r\n0\r\n\r\n")
    s["body-until-close"] = bytes([8, 0, 0x0A]) + request([b"HTTP/1.1 500 Internal Server Error"], b"broken")
    s["truncated-at-close"] = bytes([8, 0, 0x0A]) + request(RFC_RESPONSE)[:50]
    s["not-http"] = bytes([8, 0, 0x0A]) + b"SSH-2.0-OpenSSH_9.2\r\n"
    return s


# ---- extensions ------------------------------------------------------------------------------
# [deflate options] text
def extensions_seeds():
    values = [
        b"permessage-deflate",
        b"permessage-deflate; client_max_window_bits",
        b"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
        b"client_max_window_bits=12",
        b'permessage-deflate; client_max_window_bits="10"',
        b"x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8",
        b"foo; bar=baz\npermessage-deflate; client_max_window_bits=9",
        b"permessage-deflate; server_max_window_bits=16",
        b"permessage-deflate; server_max_window_bits=08",
        b"permessage-deflate; server_no_context_takeover=1",
        b"permessage-deflate; client_max_window_bits; client_max_window_bits",
        b"permessage-deflate; =",
        b"permessage-deflate;; a",
        b'permessage-deflate; a="b\\"c"',
        b" , permessage-deflate ,, ",
        b"chat, superchat",
        b"keep-alive, Upgrade",
        b"Upgrade",
        KEY,
        b"dGhlIHNhbXBsZSBub25jZR==",
        b"header\r\nInjected: yes",
    ]
    s = {}
    for i, v in enumerate(values):
        s["value-%02d" % i] = bytes([0]) + v
        s["value-%02d-options" % i] = bytes([0x01 | 3 << 2 | 2 << 5]) + v
    return s


# ---- inflate ---------------------------------------------------------------------------------
# [mode] [limit] [split] bytes. mode: bit 0 no context takeover; bit 1 round trip; bits 2-4 the
# compressor's window bits (9 + n); bits 5-6 its level. limit: index into 0, 1, 7, 100, 1000,
# 4096, 65536, 1 MiB.
def inflate_seeds():
    s = {}
    hello = bytes.fromhex("f248cdc9c90700")
    s["rfc7692-hello"] = bytes([0, 0, 0x0A]) + hello
    s["rfc7692-hello-limit-1"] = bytes([0, 1, 0x05]) + hello
    s["rfc7692-hello-twice"] = bytes([0, 0, 0x0B]) + hello + bytes.fromhex("f200110000")
    s["rfc7692-stored"] = bytes([1, 3, 0x0A]) + bytes.fromhex("000500faff48656c6c6f00")
    s["rfc7692-bfinal"] = bytes([0, 0, 0x0A]) + bytes.fromhex("f348cdc9c9070000")
    s["bomb-1mib"] = bytes([0, 6, 0x0A]) + deflate(bytes(1 << 20), 9)
    s["bomb-1mib-byte-by-byte"] = bytes([1, 5, 0x00]) + deflate(bytes(1 << 20), 9)
    s["text"] = bytes([0, 4, 0x0A]) + deflate(b"The quick brown fox jumps over the lazy dog. " * 20)
    s["corrupt"] = bytes([0, 0, 0x0A]) + b"\xff\xff\xff\x01\x02"
    s["round-trip-text"] = bytes([2, 0, 0x0A]) + b"Hello, Hello, Hello! " * 30
    s["round-trip-window-9-level-9"] = bytes([2 | 0 << 2 | 3 << 5, 4, 0x09]) + bytes(range(256)) * 4
    s["round-trip-no-context-limit"] = bytes([3 | 6 << 2 | 1 << 5, 3, 0x0A]) + b"abcabcabc" * 50
    return s


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print("%-10s %3d seeds, %6d bytes" % (target, len(seeds), sum(len(d) for d in seeds.values())))


if __name__ == "__main__":
    write("frames", frames_seeds())
    write("request", request_seeds())
    write("response", response_seeds())
    write("extensions", extensions_seeds())
    write("inflate", inflate_seeds())
