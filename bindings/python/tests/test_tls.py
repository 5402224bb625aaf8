"""Transports: TLS (wss://) on both sides and against python-websockets, and Unix sockets.

A throwaway CA, a server certificate for localhost / 127.0.0.1 and client certificates are made
with the openssl command-line tool once per session; everything runs over real sockets.
"""

import asyncio
import os
import shutil
import ssl
import subprocess
import time
import types

import pytest
import websockets

import wsc
import wsc.sync


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def run(coro, timeout=10):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def py_echo(ws, path=None):  # python-websockets 10's handler (path is optional since 10.1)
    async for message in ws:
        await ws.send(message)


def py_port(server):
    return server.sockets[0].getsockname()[1]


async def roundtrip(ws, messages=("hello", b"\x00\x01\xff", "é" * 5000)):
    for m in messages:
        await ws.send(m)
        got = await ws.recv()
        assert got == m and type(got) is type(m)


# ---- a throwaway PKI -----------------------------------------------------------------------------

EXTENSIONS = """\
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
"""


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """Paths of: ca (cert), server / server_key (signed by ca, for localhost and 127.0.0.1),
    client / client_key (signed by ca), rogue / rogue_key (a self-signed CA that signed nothing
    here: a client certificate nobody trusts, and a trust store that trusts none of the above)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command-line tool is needed to make test certificates")
    d = tmp_path_factory.mktemp("pki")
    (d / "ext.cnf").write_text(EXTENSIONS)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def sh(*args):
        subprocess.run([openssl, *args], cwd=d, check=True, capture_output=True, timeout=60)

    for name, cn in (("ca", "wsc test CA"), ("rogue", "wsc rogue CA")):
        sh("req", "-x509", *ec, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={cn}",
           "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, cn, serial in (("server", "localhost", "2"), ("client", "wsc test client", "3")):
        sh("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        sh("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", serial,
           "-days", "2", "-out", f"{name}.pem", "-extfile", "ext.cnf", "-extensions", name)
    return types.SimpleNamespace(
        dir=d, ca=str(d / "ca.pem"), server=str(d / "server.pem"), server_key=str(d / "server.key"),
        client=str(d / "client.pem"), client_key=str(d / "client.key"),
        rogue=str(d / "rogue.pem"), rogue_key=str(d / "rogue.key"))


def server_tls(pki, **kw):
    return wsc.TLSOptions(cert_file=pki.server, key_file=pki.server_key, **kw)


def client_context(pki):
    """A plain ssl.SSLContext (as for python-websockets) trusting the test CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=pki.ca)
    return ctx


# ---- trust: wsc on both sides -------------------------------------------------------------------

def test_tlsoptions_server_and_a_plain_ssl_context_client_with_cafile(pki):
    seen = []

    async def handler(ws):
        seen.append(ws.path)
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, ssl=server_tls(pki)) as server:
            ctx = client_context(pki)
            # The certificate names both: the IP literal and the DNS name are each checked.
            for host in ("127.0.0.1", "localhost"):
                async with wsc.connect(f"wss://{host}:{server.port}/{host}", ssl=ctx) as ws:
                    await roundtrip(ws)
                assert ws.close_code == 1000
    run(main())
    assert seen == ["/127.0.0.1", "/localhost"]


def test_wsc_ssl_context_server_and_clients_trusting_the_ca_by_cadata(pki):
    with open(pki.ca) as f:
        pem = f.read()
    der = ssl.PEM_cert_to_DER_cert(pem)

    async def main():
        sctx = wsc.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(pki.server, pki.server_key)
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=sctx) as server:
            for cadata in (pem, der):  # PEM text and DER bytes, as ssl accepts both
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.load_verify_locations(cadata=cadata)
                async with wsc.connect(f"wss://localhost:{server.port}/", ssl=ctx) as ws:
                    await roundtrip(ws)
    run(main())


def test_tlsoptions_client_with_ca_file_and_ca_pem(pki):
    with open(pki.ca) as f:
        pem = f.read()

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki)) as server:
            for tls in (wsc.TLSOptions(ca_file=pki.ca), wsc.TLSOptions(ca_pem=pem)):
                async with wsc.connect(f"wss://127.0.0.1:{server.port}/", ssl=tls) as ws:
                    await roundtrip(ws)
    run(main())


def test_a_client_that_does_not_trust_the_ca_fails_verification(pki):
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki)) as server:
            uri = f"wss://127.0.0.1:{server.port}/"
            other = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            other.load_verify_locations(cafile=pki.rogue)
            # The system store (wss:// with no ssl=), a context and TLSOptions trusting another CA.
            for kw in ({}, {"ssl": other}, {"ssl": wsc.TLSOptions(ca_file=pki.rogue)}):
                with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
                    await wsc.connect(uri, **kw)
            # The server goes on serving clients that do trust it.
            async with wsc.connect(uri, ssl=client_context(pki)) as ws:
                await roundtrip(ws)
    run(main())


def test_verify_false_accepts_an_untrusted_certificate(pki):
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki)) as server:
            async with wsc.connect(f"wss://127.0.0.1:{server.port}/", ssl=wsc.TLSOptions(verify=False)) as ws:
                await roundtrip(ws)
            # The same from a context that verifies nothing.
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            async with wsc.connect(f"wss://127.0.0.1:{server.port}/", ssl=ctx) as ws:
                await roundtrip(ws)
    run(main())


def test_server_hostname_is_the_name_checked(pki):
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki)) as server:
            uri = f"wss://127.0.0.1:{server.port}/"
            ctx = client_context(pki)
            with pytest.raises(ssl.SSLCertVerificationError, match="example.com"):
                await wsc.connect(uri, ssl=ctx, server_hostname="example.com")
            with pytest.raises(ssl.SSLCertVerificationError):
                await wsc.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.ca, servername="wrong.localhost"))
            async with wsc.connect(uri, ssl=ctx, server_hostname="localhost") as ws:
                await roundtrip(ws)
    run(main())


def test_a_server_refuses_tls_settings_without_its_certificate(pki):
    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    plain.load_cert_chain(pki.server, pki.server_key)  # loaded, but ssl does not tell wsc which files

    async def main():
        with pytest.raises(ValueError, match="wsc.SSLContext"):
            await wsc.serve(echo, "127.0.0.1", 0, ssl=plain)
        with pytest.raises(ValueError, match="certificate"):
            await wsc.serve(echo, "127.0.0.1", 0, ssl=wsc.TLSOptions(ca_file=pki.ca))
        with pytest.raises(wsc.WscError) as e:  # a file that is not there fails at once
            await wsc.serve(echo, "127.0.0.1", 0,
                            ssl=wsc.TLSOptions(cert_file=str(pki.dir / "missing.pem"), key_file=pki.server_key))
        assert e.value.name == "WSC_ETLS_CONFIG"

    run(main())
    fds = open_fds()  # after a first round: libwsc's process-wide descriptors are open by now
    run(main())
    assert open_fds() == fds, "a failed serve() left a descriptor open"
    with pytest.raises(ValueError, match="wsc.SSLContext"):  # and in the blocking API
        wsc.sync.serve(lambda ws: None, "127.0.0.1", 0, ssl=plain)
    deadline = time.monotonic() + 5
    while open_fds() != fds and time.monotonic() < deadline:  # its loop thread ends on its own
        time.sleep(0.01)
    assert open_fds() == fds, "a failed wsc.sync.serve() left a descriptor open"


# ---- python-websockets on the other side ---------------------------------------------------------

def test_python_websockets_client_with_our_tls_server(pki):
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki)) as server:
            async with websockets.connect(f"wss://localhost:{server.port}/", ssl=client_context(pki)) as ws:
                assert ws.transport.get_extra_info("ssl_object").getpeercert()["subject"] == (
                    (("commonName", "localhost"),),)
                await roundtrip(ws)
            # python-websockets verifies as well: without the CA it refuses our server.
            with pytest.raises(ssl.SSLCertVerificationError):
                await websockets.connect(f"wss://localhost:{server.port}/", ssl=ssl.create_default_context())
    run(main())


def test_our_client_with_a_python_websockets_tls_server(pki):
    async def main():
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(pki.server, pki.server_key)
        async with websockets.serve(py_echo, "127.0.0.1", 0, ssl=sctx) as server:
            uri = f"wss://localhost:{py_port(server)}/"
            async with wsc.connect(uri, ssl=client_context(pki)) as ws:
                await roundtrip(ws)
                await ws.send(os.urandom(300_000))
                assert len(await ws.recv()) == 300_000
            with pytest.raises(ssl.SSLCertVerificationError):
                await wsc.connect(uri)
    run(main())


# ---- client certificates ------------------------------------------------------------------------

def test_a_required_client_certificate(pki):
    async def main():
        tls = server_tls(pki, ca_file=pki.ca, client_cert="required")
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=tls) as server:
            uri = f"wss://localhost:{server.port}/"
            with pytest.raises(ssl.SSLError):  # no certificate
                await wsc.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.ca))
            with pytest.raises(ssl.SSLError):  # one the server's CA did not sign
                await wsc.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.ca, cert_file=pki.rogue, key_file=pki.rogue_key))
            async with wsc.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.ca, cert_file=pki.client,
                                                           key_file=pki.client_key)) as ws:
                await roundtrip(ws)
            ctx = wsc.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(pki.ca)
            ctx.load_cert_chain(pki.client, pki.client_key)
            async with wsc.connect(uri, ssl=ctx) as ws:
                await roundtrip(ws)
            # python-websockets' client with a certificate is let in too.
            pctx = client_context(pki)
            pctx.load_cert_chain(pki.client, pki.client_key)
            async with websockets.connect(uri, ssl=pctx) as ws:
                await roundtrip(ws)
    run(main())


def test_client_certificates_from_a_server_ssl_context_and_optional_ones(pki):
    async def main():
        sctx = wsc.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(pki.server, pki.server_key)
        sctx.load_verify_locations(pki.ca)
        sctx.verify_mode = ssl.CERT_REQUIRED
        with_cert = wsc.TLSOptions(ca_file=pki.ca, cert_file=pki.client, key_file=pki.client_key)
        without = wsc.TLSOptions(ca_file=pki.ca)
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=sctx) as server:
            uri = f"wss://localhost:{server.port}/"
            with pytest.raises(ssl.SSLError):
                await wsc.connect(uri, ssl=without)
            async with wsc.connect(uri, ssl=with_cert) as ws:
                await roundtrip(ws)
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki, ca_file=pki.ca, client_cert="optional")) as server:
            uri = f"wss://localhost:{server.port}/"
            for tls in (without, with_cert):
                async with wsc.connect(uri, ssl=tls) as ws:
                    await roundtrip(ws)
    run(main())
    with pytest.raises(ValueError, match="client_cert"):
        run(wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki, client_cert="always")))


# ---- protocol versions --------------------------------------------------------------------------

def test_tls_versions(pki):
    def py_ctx(maximum=None):
        ctx = client_context(pki)
        if maximum is not None:
            ctx.maximum_version = maximum
        return ctx

    async def negotiated(uri, ctx):
        async with websockets.connect(uri, ssl=ctx) as ws:
            await roundtrip(ws)
            return ws.transport.get_extra_info("ssl_object").version()

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki, min_version="TLSv1.3")) as server:
            uri = f"wss://localhost:{server.port}/"
            with pytest.raises(ssl.SSLError, match="version"):
                await wsc.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.ca, max_version="TLSv1.2"))
            capped = client_context(pki)
            capped.maximum_version = ssl.TLSVersion.TLSv1_2
            with pytest.raises(ssl.SSLError):  # a wsc client from an ssl context's maximum_version
                await wsc.connect(uri, ssl=capped)
            with pytest.raises(ssl.SSLError):  # and python's own TLS
                await websockets.connect(uri, ssl=py_ctx(ssl.TLSVersion.TLSv1_2))
            assert await negotiated(uri, py_ctx()) == "TLSv1.3"
            async with wsc.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.ca, min_version=ssl.TLSVersion.TLSv1_3)) as ws:
                await roundtrip(ws)
        async with wsc.serve(echo, "127.0.0.1", 0, ssl=server_tls(pki, max_version=ssl.TLSVersion.TLSv1_2)) as server:
            uri = f"wss://localhost:{server.port}/"
            assert await negotiated(uri, py_ctx()) == "TLSv1.2"
            async with wsc.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.ca, max_version="TLSv1.2")) as ws:
                await roundtrip(ws)
            with pytest.raises(ssl.SSLError):
                await wsc.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.ca, min_version="TLSv1.3"))
    run(main())


# ---- the blocking API ---------------------------------------------------------------------------

def test_sync_connect_over_wss(pki):
    def handler(ws):
        for message in ws:
            ws.send(message)

    with wsc.sync.serve(handler, "127.0.0.1", 0, ssl=server_tls(pki)) as server:
        uri = f"wss://localhost:{server.port}/"
        with wsc.sync.connect(uri, ssl=client_context(pki), open_timeout=5) as ws:
            for m in ("sync over tls", b"\x00" * 70000):
                ws.send(m)
                assert ws.recv(timeout=5) == m
        assert ws.close_code == 1000
        with pytest.raises(ssl.SSLCertVerificationError):
            wsc.sync.connect(uri, ssl=wsc.TLSOptions(ca_file=pki.rogue), open_timeout=5)


# ---- Unix sockets -------------------------------------------------------------------------------

async def path_then_echo(ws, path=None):
    await ws.send(ws.path)
    async for message in ws:
        await ws.send(message)


def test_unix_serve_and_unix_connect(tmp_path):
    sock = str(tmp_path / "wsc.sock")

    async def main():
        async with wsc.unix_serve(path_then_echo, sock):
            assert os.path.exists(sock)
            async with wsc.unix_connect(sock, "ws://localhost/chat?room=1") as ws:
                assert await ws.recv() == "/chat?room=1"
                await roundtrip(ws)
                assert ws.remote_address == sock
            assert ws.close_code == 1000
            async with wsc.unix_connect(sock) as ws:
                assert await ws.recv() == "/"
        with pytest.raises(OSError):  # nobody listens there any more
            await wsc.unix_connect(sock)
    run(main())


def test_ws_unix_uris(tmp_path):
    sock = str(tmp_path / "uri.sock")

    async def main():
        async with wsc.unix_serve(path_then_echo, sock):
            async with wsc.connect(f"ws+unix://{sock}:/a/b?c=d") as ws:
                assert await ws.recv() == "/a/b?c=d"
                await roundtrip(ws)
            async with wsc.connect(f"ws+unix://{sock}") as ws:  # no resource: "/"
                assert await ws.recv() == "/"
        with pytest.raises(OSError):
            await wsc.connect(f"ws+unix://{tmp_path / 'nobody.sock'}:/")
    run(main())


def test_unix_sockets_with_python_websockets_both_ways(tmp_path):
    ours, theirs = str(tmp_path / "ours.sock"), str(tmp_path / "theirs.sock")

    async def main():
        async with wsc.unix_serve(path_then_echo, ours, compression="deflate"):
            async with websockets.unix_connect(ours, "ws://localhost/from-python") as ws:
                assert await ws.recv() == "/from-python"
                await roundtrip(ws)
                assert ws.response_headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
        async with websockets.unix_serve(path_then_echo, theirs):
            async with wsc.unix_connect(theirs, "ws://localhost/from-wsc") as ws:
                assert await ws.recv() == "/from-wsc"
                await roundtrip(ws)
                assert ws.extensions.startswith("permessage-deflate")
            async with wsc.connect(f"ws+unix://{theirs}:/uri") as ws:
                assert await ws.recv() == "/uri"
    run(main())
