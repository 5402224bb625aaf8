// TLS (src/tls.cc and its use by connections, clients and servers): wss:// between wsc's client
// and server on real sockets, with throwaway certificates made by the openssl tool for each run;
// every verification failure and its error; client certificates; SNI; PEM text and encrypted
// keys; and raw OpenSSL peers that split records into tiny pieces, renegotiate, send
// close_notify, or send garbage instead of a handshake.
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "net_support.h"
#include "tls_support.h"
#include "wsc/wsc.h"

using wsc_test::cert;
using wsc_test::describe_conn_event;
using wsc_test::Events;
using wsc_test::TestLoop;

namespace {

// ---- wsc peers ---------------------------------------------------------------------------------

struct TlsInfo {
  int32_t verify_result = -2;
  std::string version, alpn, servername, subject, issuer, verify_message;
  static TlsInfo of(const wsc_tls_info_t &i) {
    return TlsInfo{i.verify_result, i.version, i.alpn, i.servername, i.peer_subject, i.peer_issuer, i.verify_message};
  }
};

// An echo server; its events (and those of its connections) as text.
struct Server {
  wsc_server_t *srv = nullptr;
  Events events;
  int port = 0;
  bool closed = false;
  int secure = -1;   // wsc_request_is_secure of the last request
  TlsInfo request;   // the last request's TLS
  std::function<void(wsc_request_t *)> decide;  // default: accept
  std::vector<std::string> messages;

  // Returns wsc_server_new's result.
  int start(TestLoop &t, const wsc_tls_options_t *tls, const wsc_conn_options_t *co = nullptr) {
    wsc_server_options_t o = WSC_SERVER_OPTIONS_INIT;
    o.host = "127.0.0.1";
    o.flags = WSC_SERVER_HANDLE_REQUESTS;
    o.tls = tls;
    o.conn = co;
    o.handshake_timeout_ms = 3000;
    int rc = wsc_server_new(&srv, t.loop, &o, on_server, this);
    if (rc != 0) return rc;
    wsc_addr_t a;
    wsc_server_address(srv, &a);
    port = static_cast<int>(a.port);
    return 0;
  }
  std::string url(const std::string &host = "127.0.0.1") const {
    return "wss://" + host + ":" + std::to_string(port) + "/";
  }
  void close() {
    if (srv) wsc_server_close(srv, 1001);
  }

  static void on_server(wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
    auto *s = static_cast<Server *>(ud);
    switch (ev->type) {
      case WSC_SERVER_REQUEST: {
        s->secure = wsc_request_is_secure(ev->request);
        wsc_tls_info_t info{};
      info.size = sizeof info;
        if (wsc_request_tls_info(ev->request, &info) == 0) s->request = TlsInfo::of(info);
        s->events.log.push_back("request");
        if (s->decide)
          s->decide(ev->request);
        else
          wsc_request_accept(ev->request, nullptr);
        break;
      }
      case WSC_SERVER_CONNECTION:
        wsc_conn_set_callback(ev->conn, on_conn, s);
        break;
      case WSC_SERVER_CLIENT_ERROR:
        s->events.log.push_back(std::string("client-error ") + wsc_err_name(ev->error) + " " + ev->message);
        break;
      case WSC_SERVER_CLOSE:
        s->closed = true;
        break;
      default:
        break;
    }
  }
  static void on_conn(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
    auto *s = static_cast<Server *>(ud);
    s->events.log.push_back("conn " + describe_conn_event(*ev));
    if (ev->type == WSC_EV_MESSAGE) {
      s->messages.emplace_back(reinterpret_cast<const char *>(ev->data), ev->len);
      wsc_conn_send(c, ev->opcode, ev->data, ev->len, 0, nullptr, nullptr);
    }
  }
};

struct Client {
  wsc_conn_t *conn = nullptr;
  Events events;
  bool open = false, closed = false;
  TlsInfo tls;
  std::vector<std::string> messages;
  uint32_t close_code = 0;
  static void on(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
    auto *cl = static_cast<Client *>(ud);
    cl->events.log.push_back(describe_conn_event(*ev).substr(0, 200));
    if (ev->type == WSC_EV_OPEN) {
      cl->open = true;
      wsc_tls_info_t info{};
      info.size = sizeof info;
      if (wsc_conn_tls_info(c, &info) == 0) cl->tls = TlsInfo::of(info);
    }
    if (ev->type == WSC_EV_MESSAGE) cl->messages.emplace_back(reinterpret_cast<const char *>(ev->data), ev->len);
    if (ev->type == WSC_EV_CLOSE) {
      cl->closed = true;
      cl->close_code = ev->code;
    }
  }
  int connect(TestLoop &t, const std::string &url, const wsc_tls_options_t *tls) {
    wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
    o.tls = tls;
    return wsc_connect(&conn, t.loop, url.c_str(), &o, on, this);
  }
  std::string error() const {
    for (const auto &l : events.log)
      if (l.rfind("error ", 0) == 0) return l;
    return "";
  }
};

wsc_tls_options_t server_tls(const std::string &name = "server") {
  static std::vector<std::string> keep;  // the options point into these
  keep.push_back(cert(name + ".pem"));
  keep.push_back(cert(name + ".key"));
  wsc_tls_options_t o = WSC_TLS_OPTIONS_INIT;
  o.cert_file = keep[keep.size() - 2].c_str();
  o.key_file = keep.back().c_str();
  return o;
}

wsc_tls_options_t trusting(const char *ca = "ca.pem") {
  static std::vector<std::string> keep;
  keep.push_back(cert(ca));
  wsc_tls_options_t o = WSC_TLS_OPTIONS_INIT;
  o.ca_file = keep.back().c_str();
  return o;
}

// A client connection from start to its close event, against srv.
void run_client(TestLoop &t, Client &c, const std::string &url, const wsc_tls_options_t *tls) {
  ASSERT_EQ(c.connect(t, url, tls), 0);
  t.run_until([&] { return c.open || c.closed; });
  if (c.open) wsc_conn_close(c.conn, 1000, "bye", 3);
  t.run_until([&] { return c.closed; });
}

// ---- a raw OpenSSL peer on a blocking socket, through memory BIOs ---------------------------------
// Its ciphertext goes out in pieces of `chunk` bytes (0: as it comes), so that wsc receives
// records split anywhere.

class SslPeer {
 public:
  SslPeer(bool server, int fd, int max_version = 0) : fd_(fd) {
    ctx_ = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (max_version) SSL_CTX_set_max_proto_version(ctx_, max_version);
    if (max_version && max_version < TLS1_2_VERSION) {  // allow what OpenSSL's defaults forbid
      SSL_CTX_set_min_proto_version(ctx_, max_version);
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    }
    if (server) {
      SSL_CTX_use_certificate_chain_file(ctx_, cert("server.pem").c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, cert("server.key").c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(ctx_);
    rb_ = BIO_new(BIO_s_mem());
    wb_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, rb_, wb_);
    if (server)
      SSL_set_accept_state(ssl_);
    else
      SSL_set_connect_state(ssl_);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~SslPeer() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  size_t chunk = 0;
  SSL *ssl() { return ssl_; }

  void pump_out() {
    char buf[16384];
    std::minstd_rand rng(7);
    int n;
    while ((n = BIO_read(wb_, buf, sizeof buf)) > 0) {
      for (int off = 0; off < n;) {
        int piece = chunk ? static_cast<int>(1 + rng() % chunk) : n - off;
        if (piece > n - off) piece = n - off;
        if (!wsc_test::send_all(fd_, std::string(buf + off, piece))) return;
        off += piece;
        if (chunk) usleep(100);
      }
    }
  }
  bool pump_in() {
    char buf[16384];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    BIO_write(rb_, buf, static_cast<int>(n));
    return true;
  }
  // Drives f (an SSL call) until it is done: its result, or -1000 - SSL_get_error.
  template <typename F>
  int drive(F f) {
    for (;;) {
      ERR_clear_error();
      int r = f();
      pump_out();
      if (r > 0) return r;
      int e = SSL_get_error(ssl_, r);
      if (e != SSL_ERROR_WANT_READ) return -1000 - e;
      if (!pump_in()) return -1000 - SSL_ERROR_SYSCALL;
    }
  }
  int handshake() {
    return drive([&] { return SSL_do_handshake(ssl_); });
  }
  bool write(const std::string &s) {
    return drive([&] { return SSL_write(ssl_, s.data(), static_cast<int>(s.size())); }) > 0;
  }
  // Reads until `marker` is in what was read, or the stream ends; *end gets the final status.
  std::string read_until(const std::string &marker, int *end = nullptr) {
    std::string out;
    char buf[4096];
    int r = 0;
    while (out.find(marker) == std::string::npos || marker.empty()) {
      r = drive([&] { return SSL_read(ssl_, buf, sizeof buf); });
      if (r <= 0) break;
      out.append(buf, static_cast<size_t>(r));
    }
    if (end) *end = r;
    return out;
  }

 private:
  int fd_;
  SSL_CTX *ctx_;
  SSL *ssl_;
  BIO *rb_, *wb_;
};

const char kUpgrade[] =
    "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

std::string client_frame(uint32_t opcode, const std::string &payload) {
  static const uint8_t key[4] = {1, 2, 3, 4};
  wsc_frame_t f = {opcode, WSC_FRAME_FIN | WSC_FRAME_MASK, key, reinterpret_cast<const uint8_t *>(payload.data()),
                   payload.size()};
  std::string out(payload.size() + WSC_FRAME_MAX_HEADER, '\0');
  size_t n = 0;
  EXPECT_EQ(wsc_frame_encode(&n, &out[0], out.size(), &f), 0);
  out.resize(n);
  return out;
}

// ---- wss:// between wsc's client and server --------------------------------------------------------

TEST(Tls, EchoesSmallAndLargeMessagesBothWays) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  Client c;
  wsc_tls_options_t co = trusting();
  ASSERT_EQ(c.connect(t, s.url(), &co), 0);
  ASSERT_TRUE(t.run_until([&] { return c.open || c.closed; }));
  ASSERT_TRUE(c.open) << c.error();
  // Large messages take many records, partial writes (the kernel's buffer fills) and reads.
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + (i >> 12));
  ASSERT_EQ(wsc_conn_send(c.conn, WSC_OP_TEXT, "hello", 5, 0, nullptr, nullptr), 0);
  int completed = 0;
  auto done = [](wsc_conn_t *, int status, void *ud) {
    if (status == 0) ++*static_cast<int *>(ud);
  };
  for (int i = 0; i < 3; ++i)
    ASSERT_GE(wsc_conn_send(c.conn, WSC_OP_BINARY, big.data(), big.size(), 0, done, &completed), 0);
  ASSERT_TRUE(t.run_until([&] { return c.messages.size() == 4; }, 30000));
  EXPECT_EQ(c.messages[0], "hello");
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(c.messages[i] == big) << "message " << i;
  EXPECT_EQ(completed, 3);
  EXPECT_EQ(c.tls.verify_result, 0);
  EXPECT_EQ(c.tls.version, "TLSv1.3");
  EXPECT_EQ(c.tls.alpn, "http/1.1");
  EXPECT_EQ(c.tls.servername, "");  // an IP literal is never sent as SNI
  EXPECT_EQ(c.tls.subject, "CN=localhost,O=wsc tests");
  EXPECT_EQ(c.tls.issuer, "CN=wsc test CA,O=wsc tests");
  EXPECT_EQ(s.secure, 1);
  EXPECT_EQ(s.request.alpn, "http/1.1");
  EXPECT_EQ(s.request.verify_result, -1);  // no client certificate
  wsc_conn_close(c.conn, 1000, "bye", 3);
  ASSERT_TRUE(t.run_until([&] { return c.closed; }));
  EXPECT_EQ(c.events.log.back(), "close 1000 bye clean");
  s.close();
  t.run_until([&] { return s.closed; });
  EXPECT_TRUE(s.events.has("conn close 1000 bye clean"));
}

TEST(Tls, VerifiesHostNamesAndSendsThemAsSni) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  Client c;
  wsc_tls_options_t co = trusting();
  run_client(t, c, s.url("localhost"), &co);
  EXPECT_TRUE(c.events.has("open")) << c.error();
  EXPECT_EQ(c.tls.servername, "localhost");
  EXPECT_EQ(s.request.servername, "localhost");
  // WSC_TLS_NO_SNI: the name is still verified, not sent.
  Client quiet;
  co.flags = WSC_TLS_NO_SNI;
  run_client(t, quiet, s.url("localhost"), &co);
  EXPECT_TRUE(quiet.events.has("open")) << quiet.error();
  EXPECT_EQ(s.request.servername, "");
  s.close();
}

TEST(Tls, EachVerificationFailureSaysWhatFailedAndClosesWith1015) {
  struct Case {
    const char *cert, *host, *error, *message;
  } cases[] = {
      {"expired", "127.0.0.1", "WSC_ECERT_EXPIRED", "certificate verify failed: certificate has expired"},
      {"wronghost", "localhost", "WSC_ECERT_HOSTNAME", "certificate verify failed: hostname mismatch"},
      {"wronghost", "127.0.0.1", "WSC_ECERT_HOSTNAME", "certificate verify failed: IP address mismatch"},
      {"unknown", "127.0.0.1", "WSC_ECERT_UNTRUSTED", "certificate verify failed: unable to get local issuer"},
      {"selfsigned", "127.0.0.1", "WSC_ECERT_UNTRUSTED", "certificate verify failed: self-signed certificate"},
  };
  for (const Case &tc : cases) {
    TestLoop t;
    Server s;
    wsc_tls_options_t so = server_tls(tc.cert);
    ASSERT_EQ(s.start(t, &so), 0);
    Client c;
    wsc_tls_options_t co = trusting();
    run_client(t, c, s.url(tc.host), &co);
    ASSERT_EQ(c.events.log.size(), 2u) << tc.cert;
    EXPECT_EQ(c.events.log[0].rfind(std::string("error ") + tc.error + " " + tc.message, 0), 0u)
        << tc.cert << ": " << c.events.log[0];
    EXPECT_EQ(c.events.log[1], "close 1015  unclean") << tc.cert;
    // The server hears why from the client's alert.
    t.run_until([&] { return s.events.has("client-error"); });
    EXPECT_TRUE(s.events.has("client-error WSC_ETLS_HANDSHAKE TLS handshake failed: ")) << tc.cert;
    EXPECT_FALSE(s.events.has("request"));
    s.close();
  }
}

TEST(Tls, InsecureSkipsVerificationButReportsItsResult) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls("selfsigned");
  ASSERT_EQ(s.start(t, &so), 0);
  Client c;
  wsc_tls_options_t co = WSC_TLS_OPTIONS_INIT;
  co.flags = WSC_TLS_INSECURE_SKIP_VERIFY;
  run_client(t, c, s.url(), &co);
  EXPECT_TRUE(c.events.has("open"));
  EXPECT_EQ(c.tls.verify_result, 18);  // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
  EXPECT_EQ(c.tls.verify_message, "self-signed certificate");
  s.close();
}

TEST(Tls, TheSystemStoreIsTheDefaultTrust) {
  // The test CA is in no system store: without a CA option the client refuses it.
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  Client c;
  run_client(t, c, s.url(), nullptr);
  EXPECT_EQ(c.error().rfind("error WSC_ECERT_UNTRUSTED", 0), 0u) << c.error();
  // SSL_CERT_FILE, honoured as OpenSSL's default paths are, makes it trusted.
  setenv("SSL_CERT_FILE", cert("ca.pem").c_str(), 1);
  wsc_tls_options_t co = WSC_TLS_OPTIONS_INIT;
  co.ciphersuites = "TLS_AES_128_GCM_SHA256";  // other options: a context of its own, built now
  Client d;
  run_client(t, d, s.url(), &co);
  unsetenv("SSL_CERT_FILE");
  EXPECT_TRUE(d.events.has("open")) << d.error();
  s.close();
}

TEST(Tls, ACertificateChainAndPemTextAndAnEncryptedKey) {
  TestLoop t;
  Server chain;
  wsc_tls_options_t so = server_tls("chain");  // the leaf by an intermediate, then the intermediate
  ASSERT_EQ(chain.start(t, &so), 0);
  Client a;
  wsc_tls_options_t co = trusting();
  run_client(t, a, chain.url(), &co);
  EXPECT_TRUE(a.events.has("open")) << a.error();
  EXPECT_EQ(a.tls.issuer, "CN=wsc test intermediate,O=wsc tests");
  chain.close();

  std::string cert_pem = wsc_test::file_text(cert("server.pem"));
  std::string key_pem = wsc_test::file_text(cert("server-enc.key"));
  std::string ca_pem = wsc_test::file_text(cert("ca.pem"));
  Server text;
  wsc_tls_options_t to = WSC_TLS_OPTIONS_INIT;
  to.cert_pem = cert_pem.c_str();
  to.key_pem = key_pem.c_str();
  to.passphrase = "secret";
  ASSERT_EQ(text.start(t, &to), 0) << wsc_last_error_message();
  Client b;
  wsc_tls_options_t bo = WSC_TLS_OPTIONS_INIT;
  bo.ca_pem = ca_pem.c_str();
  run_client(t, b, text.url(), &bo);
  EXPECT_TRUE(b.events.has("open")) << b.error();
  // A directory of hashed CA certificates (openssl rehash) trusts as the file does.
  std::string hashed = wsc_test::cert_dir() + "/hashed";
  std::string cmd = "mkdir -p " + hashed + " && cp " + cert("ca.pem") + " " + hashed + "/ && openssl rehash " + hashed;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Client d;
  wsc_tls_options_t dir = WSC_TLS_OPTIONS_INIT;
  dir.ca_path = hashed.c_str();
  run_client(t, d, text.url(), &dir);
  EXPECT_TRUE(d.events.has("open")) << d.error();
  text.close();
}

TEST(Tls, BadConfigurationsFailAtOnceWithTheReason) {
  TestLoop t;
  std::string pem = cert("server.pem"), key = cert("server.key"), enc = cert("server-enc.key"), a_key = cert("a.key");
  struct Case {
    const char *name;
    std::function<void(wsc_tls_options_t &)> set;
    int error;
    const char *message;
  } cases[] = {
      {"no certificate", [](wsc_tls_options_t &) {}, WSC_ETLS_CONFIG, "a TLS server needs a certificate"},
      {"missing file", [&](wsc_tls_options_t &o) { o.cert_file = "/nonexistent.pem"; o.key_file = key.c_str(); },
       WSC_ETLS_CONFIG, "cannot load certificate /nonexistent.pem"},
      {"key of another certificate",
       [&](wsc_tls_options_t &o) { o.cert_file = pem.c_str(); o.key_file = a_key.c_str(); }, WSC_ETLS_CONFIG,
       "does not match the certificate"},
      {"wrong passphrase",
       [&](wsc_tls_options_t &o) { o.cert_file = pem.c_str(); o.key_file = enc.c_str(); o.passphrase = "wrong"; },
       WSC_ETLS_CONFIG, "cannot load private key"},
      {"no passphrase", [&](wsc_tls_options_t &o) { o.cert_file = pem.c_str(); o.key_file = enc.c_str(); },
       WSC_ETLS_CONFIG, "cannot load private key"},
      {"bad cipher list",
       [&](wsc_tls_options_t &o) { o.cert_file = pem.c_str(); o.key_file = key.c_str(); o.ciphers = "NOPE"; },
       WSC_ETLS_CONFIG, "invalid cipher list"},
      {"TLS 1.0", [&](wsc_tls_options_t &o) { o.cert_file = pem.c_str(); o.key_file = key.c_str(); o.min_version = 0x0301; },
       WSC_EINVAL, "invalid TLS options"},
  };
  for (const Case &tc : cases) {
    wsc_tls_options_t o = WSC_TLS_OPTIONS_INIT;
    tc.set(o);
    wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
    so.tls = &o;
    wsc_server_t *srv = nullptr;
    EXPECT_EQ(wsc_server_new(&srv, t.loop, &so, nullptr, nullptr), tc.error) << tc.name;
    EXPECT_EQ(srv, nullptr);
    EXPECT_NE(std::string(wsc_last_error_message()).find(tc.message), std::string::npos)
        << tc.name << ": [" << wsc_last_error_message() << "]";
  }
  // A client's bad CA file fails wsc_connect itself.
  wsc_tls_options_t o = WSC_TLS_OPTIONS_INIT;
  o.ca_file = "/nonexistent-ca.pem";
  wsc_client_options_t co = WSC_CLIENT_OPTIONS_INIT;
  co.tls = &o;
  wsc_conn_t *c = nullptr;
  EXPECT_EQ(wsc_connect(&c, t.loop, "wss://127.0.0.1:1/", &co, Client::on, nullptr), WSC_ETLS_CONFIG);
  EXPECT_NE(std::string(wsc_last_error_message()).find("/nonexistent-ca.pem"), std::string::npos)
      << wsc_last_error_message();
}

TEST(Tls, SniPicksTheCertificateAndServernameOverridesTheName) {
  TestLoop t;
  std::vector<std::string> f;
  for (const char *n : {"a.pem", "a.key", "b.pem", "b.key", "wild.pem", "wild.key"}) f.push_back(cert(n));
  wsc_tls_sni_cert_t sni[3] = {};
  sni[0] = {"a.test", f[0].c_str(), f[1].c_str(), nullptr, nullptr, nullptr};
  sni[1] = {"B.Test", f[2].c_str(), f[3].c_str(), nullptr, nullptr, nullptr};
  sni[2] = {"*.wild.test", f[4].c_str(), f[5].c_str(), nullptr, nullptr, nullptr};
  wsc_tls_options_t so = server_tls();
  so.sni_certs = sni;
  so.nsni_certs = 3;
  Server s;
  ASSERT_EQ(s.start(t, &so), 0) << wsc_last_error_message();
  struct Case {
    const char *servername, *subject;
  } cases[] = {{"a.test", "CN=a.test,O=wsc tests"},
               {"b.test", "CN=b.test,O=wsc tests"},
               {"x.wild.test", "CN=*.wild.test,O=wsc tests"},
               {nullptr, "CN=localhost,O=wsc tests"}};  // no SNI (an IP): the default certificate
  for (const Case &tc : cases) {
    Client c;
    wsc_tls_options_t co = trusting();
    co.servername = tc.servername;
    run_client(t, c, s.url(), &co);
    EXPECT_TRUE(c.events.has("open")) << c.error();
    EXPECT_EQ(c.tls.subject, tc.subject);
    EXPECT_EQ(s.request.servername, tc.servername ? tc.servername : "");
  }
  // The servername is what is verified: a.test's certificate is not b.test's.
  Client wrong;
  wsc_tls_options_t co = trusting();
  co.servername = "y.wild.test.evil";
  run_client(t, wrong, s.url(), &co);
  EXPECT_EQ(wrong.error().rfind("error WSC_ECERT_HOSTNAME", 0), 0u) << wrong.error();
  s.close();
}

TEST(Tls, ClientCertificatesRequiredRequestedAndRefused) {
  std::string ca = cert("ca.pem");
  std::vector<std::string> f;
  for (const char *n : {"client.pem", "client.key", "client-other.pem", "client-other.key"}) f.push_back(cert(n));
  auto with_cert = [&](int which) {
    wsc_tls_options_t o = trusting();
    if (which >= 0) {
      o.cert_file = f[2 * which].c_str();
      o.key_file = f[2 * which + 1].c_str();
    }
    return o;
  };
  // Required: a valid certificate gets in, its subject visible to the upgrade decision.
  {
    TestLoop t;
    Server s;
    wsc_tls_options_t so = server_tls();
    so.flags = WSC_TLS_REQUIRE_CLIENT_CERT;
    so.ca_file = ca.c_str();
    ASSERT_EQ(s.start(t, &so), 0);
    Client good;
    wsc_tls_options_t co = with_cert(0);
    run_client(t, good, s.url(), &co);
    EXPECT_TRUE(good.events.has("open")) << good.error();
    EXPECT_EQ(s.request.subject, "CN=wsc test client,O=wsc tests");
    EXPECT_EQ(s.request.verify_result, 0);
    // The same certificate with its key encrypted, and the passphrase.
    Client locked;
    std::string enc = cert("client-enc.key");
    co.key_file = enc.c_str();
    co.passphrase = "secret";
    run_client(t, locked, s.url(), &co);
    EXPECT_TRUE(locked.events.has("open")) << locked.error();
    co.passphrase = "wrong";
    wsc_client_options_t wrong = WSC_CLIENT_OPTIONS_INIT;
    wrong.tls = &co;
    wsc_conn_t *never = nullptr;
    EXPECT_EQ(wsc_connect(&never, t.loop, s.url().c_str(), &wrong, Client::on, nullptr), WSC_ETLS_CONFIG);
    EXPECT_NE(std::string(wsc_last_error_message()).find("cannot load private key"), std::string::npos);
    // None: both sides say a certificate was required.
    Client none;
    co = with_cert(-1);
    run_client(t, none, s.url(), &co);
    EXPECT_EQ(none.error(), "error WSC_ECERT_REQUIRED the server requires a client certificate");
    EXPECT_EQ(none.close_code, 1015u);
    t.run_until([&] { return s.events.has("client-error"); });
    EXPECT_TRUE(s.events.has("client-error WSC_ECERT_REQUIRED the client sent no certificate"));
    // One from an unknown CA.
    Client stranger;
    co = with_cert(1);
    run_client(t, stranger, s.url(), &co);
    EXPECT_EQ(stranger.error().rfind("error WSC_ETLS_HANDSHAKE TLS handshake failed: tlsv1 alert unknown ca", 0), 0u)
        << stranger.error();
    t.run_until([&] { return s.events.count("client-error") == 2; });
    EXPECT_TRUE(s.events.has("client-error WSC_ECERT_UNTRUSTED certificate verify failed: unable to get local issuer"));
    s.close();
  }
  // Requested: the stranger gets in; the decision hook sees the failed verification and rejects.
  {
    TestLoop t;
    Server s;
    wsc_tls_options_t so = server_tls();
    so.flags = WSC_TLS_REQUEST_CLIENT_CERT;
    so.ca_file = ca.c_str();
    s.decide = [&](wsc_request_t *req) {
      wsc_tls_info_t info{};
      info.size = sizeof info;
      wsc_request_tls_info(req, &info);
      if (info.verify_result == 0)
        wsc_request_accept(req, nullptr);
      else
        wsc_request_reject(req, 403, nullptr, info.verify_message, std::strlen(info.verify_message));
    };
    ASSERT_EQ(s.start(t, &so), 0);
    Client stranger;
    wsc_tls_options_t co = with_cert(1);
    run_client(t, stranger, s.url(), &co);
    EXPECT_EQ(s.request.subject, "CN=stranger,O=somebody else");
    EXPECT_EQ(s.request.verify_message, "unable to verify the first certificate");
    EXPECT_TRUE(stranger.events.has("unexpected-response 403 unable to verify the first certificate"));
    Client good;
    co = with_cert(0);
    run_client(t, good, s.url(), &co);
    EXPECT_TRUE(good.events.has("open")) << good.error();
    s.close();
  }
}

TEST(Tls, RedirectsFromWsToWssAndNeverBack) {
  TestLoop t;
  Server secure;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(secure.start(t, &so), 0);
  Server plain;
  plain.decide = [&](wsc_request_t *req) {
    wsc_request_add_header(req, "Location", secure.url().c_str());
    wsc_request_reject(req, 302, nullptr, nullptr, 0);
  };
  ASSERT_EQ(plain.start(t, nullptr), 0);
  EXPECT_EQ(plain.secure, -1);
  wsc_tls_options_t co = trusting();
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.flags = WSC_CLIENT_FOLLOW_REDIRECTS;
  o.tls = &co;
  Client c;
  std::string url = "ws://127.0.0.1:" + std::to_string(plain.port) + "/";
  ASSERT_EQ(wsc_connect(&c.conn, t.loop, url.c_str(), &o, Client::on, &c), 0);
  t.run_until([&] { return c.open || c.closed; });
  EXPECT_TRUE(c.open) << c.error();
  EXPECT_EQ(plain.secure, 0);
  EXPECT_EQ(secure.secure, 1);
  EXPECT_EQ(std::string(wsc_conn_url(c.conn)), secure.url());
  wsc_conn_close(c.conn, 1000, nullptr, 0);
  t.run_until([&] { return c.closed; });
  // Back from wss:// to ws:// is refused.
  secure.decide = [&](wsc_request_t *req) {
    wsc_request_add_header(req, "Location", url.c_str());
    wsc_request_reject(req, 302, nullptr, nullptr, 0);
  };
  Client d;
  ASSERT_EQ(wsc_connect(&d.conn, t.loop, secure.url().c_str(), &o, Client::on, &d), 0);
  t.run_until([&] { return d.closed; });
  EXPECT_TRUE(d.events.has("error WSC_EREDIRECT Refusing a redirect from wss:// to ws://"));
  secure.close();
  plain.close();
}

TEST(Tls, PauseHoldsDecryptedMessagesAndResumeDeliversThemInOrder) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  wsc_conn_t *server_conn = nullptr;
  std::vector<std::string> got;
  struct Ctx {
    wsc_conn_t **conn;
    std::vector<std::string> *got;
  } ctx{&server_conn, &got};
  Client c;
  wsc_tls_options_t co = trusting();
  ASSERT_EQ(c.connect(t, s.url(), &co), 0);
  ASSERT_TRUE(t.run_until([&] { return c.open; }));
  // Take over the server's connection: it pauses at the first message.
  wsc_server_walk(s.srv, [](wsc_conn_t *conn, void *ud) {
    wsc_conn_set_callback(conn, [](wsc_conn_t *sc, const wsc_conn_event_t *ev, void *u) {
      auto *x = static_cast<Ctx *>(u);
      if (ev->type != WSC_EV_MESSAGE) return;
      x->got->emplace_back(reinterpret_cast<const char *>(ev->data), ev->len);
      if (x->got->size() == 1) wsc_conn_pause(sc);
    }, ud);
    *static_cast<Ctx *>(ud)->conn = conn;
    return 0;
  }, &ctx);
  ASSERT_NE(server_conn, nullptr);
  std::string big(200000, 'b');
  for (const std::string &m : {std::string("one"), big, std::string("three")})
    ASSERT_GE(wsc_conn_send(c.conn, WSC_OP_BINARY, m.data(), m.size(), 0, nullptr, nullptr), 0);
  t.run_for(200);
  EXPECT_EQ(got.size(), 1u) << "a paused connection delivers nothing more";
  wsc_conn_resume(server_conn);
  ASSERT_TRUE(t.run_until([&] { return got.size() == 3; }));
  EXPECT_EQ(got[0], "one");
  EXPECT_TRUE(got[1] == big);
  EXPECT_EQ(got[2], "three");
  wsc_conn_close(c.conn, 1000, nullptr, 0);
  t.run_until([&] { return c.closed; });
  EXPECT_EQ(c.close_code, 1000u);
  s.close();
}

TEST(Tls, AReconnectingClientMakesAFreshTlsSession) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  wsc_tls_options_t co = trusting();
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.tls = &co;
  o.reconnect_min_ms = 10;
  o.flags = WSC_CLIENT_RECONNECT_ALWAYS;
  Client c;
  ASSERT_EQ(wsc_connect(&c.conn, t.loop, s.url().c_str(), &o, Client::on, &c), 0);
  ASSERT_TRUE(t.run_until([&] { return c.open; }));
  // The server drops every connection: the client comes back over a new TLS session.
  wsc_server_close_all(s.srv, 1012);
  ASSERT_TRUE(t.run_until([&] { return c.events.count("open") == 2; }));
  EXPECT_TRUE(c.events.has("reconnecting 1012 attempt 1"));
  ASSERT_EQ(wsc_conn_send(c.conn, WSC_OP_TEXT, "again", 5, 0, nullptr, nullptr), 0);
  ASSERT_TRUE(t.run_until([&] { return c.messages.size() == 1; }));
  EXPECT_EQ(c.messages[0], "again");
  EXPECT_EQ(c.tls.verify_result, 0);
  wsc_conn_close(c.conn, 1000, nullptr, 0);
  t.run_until([&] { return c.closed; });
  s.close();
}

// ---- raw OpenSSL peers --------------------------------------------------------------------------

TEST(Tls, RecordsSplitIntoTinyPiecesAreReassembled) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  std::string echoed, text(300, 'x');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  int handshake = 0;
  wsc_test::RawPeer peer(s.port, [&](int fd) {
    SslPeer p(false, fd);
    p.chunk = 7;  // 1 to 7 bytes per send: records arrive split anywhere
    handshake = p.handshake();
    if (handshake <= 0) return;
    p.write(kUpgrade);
    p.read_until("\r\n\r\n");
    p.write(client_frame(WSC_OP_TEXT, text));
    echoed = p.read_until(text);
    p.write(client_frame(WSC_OP_CLOSE, std::string("\x03\xe8", 2)));
    p.read_until("", nullptr);
  });
  t.run_until([&] { return peer.done.load(); }, 20000);
  peer.join();
  EXPECT_EQ(handshake, 1);
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0], text);
  EXPECT_NE(echoed.find(text), std::string::npos);
  t.run_until([&] { return s.events.has("conn close 1000"); });
  s.close();
}

TEST(Tls, CloseNotifyIsSentAfterTheClosingHandshake) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  int end = 0, ssl_error = 0;
  wsc_test::RawPeer peer(s.port, [&](int fd) {
    SslPeer p(false, fd);
    if (p.handshake() <= 0) return;
    p.write(kUpgrade);
    p.read_until("\r\n\r\n");
    p.write(client_frame(WSC_OP_CLOSE, std::string("\x03\xe8", 2)));
    p.read_until("", &end);  // the server's close frame, then the end of the stream
    ssl_error = end <= -1000 ? -1000 - end : 0;
  });
  t.run_until([&] { return peer.done.load(); });
  peer.join();
  EXPECT_EQ(ssl_error, SSL_ERROR_ZERO_RETURN) << "the stream ended without close_notify";
  t.run_until([&] { return s.events.has("conn close"); });
  EXPECT_TRUE(s.events.has("conn close 1000  clean"));
  s.close();
}

TEST(Tls, CloseNotifyFromThePeerEndsTheConnectionAtOnce) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  wsc_test::RawPeer peer(s.port, [&](int fd) {
    SslPeer p(false, fd);
    if (p.handshake() <= 0) return;
    p.write(kUpgrade);
    p.read_until("\r\n\r\n");
    ERR_clear_error();
    SSL_shutdown(p.ssl());  // close_notify, without a WebSocket close
    p.pump_out();
    p.read_until("", nullptr);
  });
  auto start = std::chrono::steady_clock::now();
  t.run_until([&] { return s.events.has("conn close"); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  peer.join();
  EXPECT_TRUE(s.events.has("conn close 1006  unclean"));
  EXPECT_FALSE(s.events.has("conn error")) << "close_notify is an orderly end, not an error";
  s.close();
}

TEST(Tls, RenegotiationIsRefusedBothWays) {
  // A client asks the server (TLS 1.2: 1.3 has no renegotiation).
  {
    TestLoop t;
    Server s;
    wsc_tls_options_t so = server_tls();
    ASSERT_EQ(s.start(t, &so), 0);
    int renegotiated = 0;
    std::string reason;
    wsc_test::RawPeer peer(s.port, [&](int fd) {
      SslPeer p(false, fd, TLS1_2_VERSION);
      if (p.handshake() <= 0) return;
      p.write(kUpgrade);
      p.read_until("\r\n\r\n");
      SSL_renegotiate(p.ssl());
      renegotiated = p.handshake();
      unsigned long e = ERR_peek_error();
      reason = e ? ERR_reason_error_string(e) : "";
    });
    t.run_until([&] { return peer.done.load(); });
    peer.join();
    EXPECT_LT(renegotiated, 0);
    EXPECT_EQ(reason, "no renegotiation");
    t.run_until([&] { return s.events.has("conn close"); });
    s.close();
  }
  // A server asks the client.
  {
    TestLoop t;
    int renegotiated = 0;
    std::string reason;
    std::atomic<bool> finished{false};
    wsc_test::RawServer raw([&](int fd) {
      SslPeer p(true, fd, TLS1_2_VERSION);
      if (p.handshake() <= 0) return;
      p.read_until("\r\n\r\n");
      SSL_renegotiate(p.ssl());
      p.handshake();  // sends HelloRequest; the client answers it on the next read
      p.read_until("", &renegotiated);
      unsigned long e = ERR_peek_error();
      reason = e ? ERR_reason_error_string(e) : "";
      finished = true;
    });
    Client c;
    wsc_tls_options_t co = trusting();
    ASSERT_EQ(c.connect(t, "wss://127.0.0.1:" + std::to_string(raw.port) + "/", &co), 0);
    t.run_until([&] { return c.closed && finished.load(); });
    EXPECT_LT(renegotiated, 0);
    EXPECT_EQ(reason, "no renegotiation");
    EXPECT_EQ(c.error().rfind("error WSC_ETLS_HANDSHAKE TLS handshake failed: sslv3 alert handshake failure", 0), 0u)
        << c.error();
    EXPECT_EQ(c.close_code, 1015u);
  }
}

TEST(Tls, VersionsOlderThanTls12AreRefused) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    int handshake = 1;
    wsc_test::RawPeer peer(s.port, [&](int fd) {
      SslPeer p(false, fd, version);
      handshake = p.handshake();
    });
    size_t before = s.events.count("client-error");
    t.run_until([&] { return peer.done.load() && s.events.count("client-error") > before; });
    peer.join();
    EXPECT_LT(handshake, 0) << std::hex << version;
    EXPECT_TRUE(s.events.log.back().rfind("client-error WSC_ETLS_HANDSHAKE TLS handshake failed: unsupported protocol", 0) == 0)
        << s.events.log.back();
  }
  EXPECT_FALSE(s.events.has("request"));
  s.close();
}

TEST(Tls, GarbageInsteadOfAHandshakeFailsCleanly) {
  TestLoop t;
  Server s;
  wsc_tls_options_t so = server_tls();
  ASSERT_EQ(s.start(t, &so), 0);
  const std::string garbage[] = {
      "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n",  // cleartext to a TLS port
      std::string("\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff", 10),           // a handshake record of nonsense
      std::string(20000, '\x17'),                                           // application data first
  };
  for (const std::string &g : garbage) {
    std::string answer;
    wsc_test::RawPeer peer(s.port, [&](int fd) {
      wsc_test::send_all(fd, g);
      answer = wsc_test::read_all(fd);  // returns when the server closes
    });
    size_t before = s.events.count("client-error");
    t.run_until([&] { return peer.done.load() && s.events.count("client-error") > before; });
    peer.join();
    EXPECT_TRUE(s.events.log.back().rfind("client-error WSC_ETLS_HANDSHAKE TLS handshake failed: ", 0) == 0)
        << s.events.log.back();
    EXPECT_EQ(answer.find("HTTP/"), std::string::npos) << "no cleartext answer on a TLS port";
  }
  // A client that says nothing: the handshake times out (3 s here).
  wsc_test::RawPeer silent(s.port, [&](int fd) { wsc_test::read_all(fd); });
  t.run_until([&] { return silent.done.load(); }, 10000);
  silent.join();
  EXPECT_TRUE(s.events.has("client-error WSC_EHANDSHAKE_TIMEOUT TLS handshake timed out"));
  EXPECT_EQ(wsc_server_connection_count(s.srv), 0u);
  s.close();

  // And wsc's client, answered in cleartext.
  wsc_test::RawServer plain([](int fd) {
    wsc_test::read_until(fd, "\x01");  // some of the ClientHello
    wsc_test::send_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    wsc_test::read_all(fd);
  });
  Client c;
  wsc_tls_options_t co = trusting();
  ASSERT_EQ(c.connect(t, "wss://127.0.0.1:" + std::to_string(plain.port) + "/", &co), 0);
  t.run_until([&] { return c.closed; });
  EXPECT_EQ(c.error().rfind("error WSC_ETLS_HANDSHAKE TLS handshake failed: ", 0), 0u) << c.error();
  EXPECT_EQ(c.close_code, 1015u);
}

TEST(Tls, InfoIsRefusedForCleartextAndTlsErrorsMapToTheirCloseCodes) {
  wsc_tls_info_t info{};
      info.size = sizeof info;
  EXPECT_EQ(wsc_conn_tls_info(nullptr, &info), WSC_EINVAL);
  EXPECT_EQ(wsc_request_tls_info(nullptr, &info), WSC_EINVAL);
  wsc_tls_options_t o;
  EXPECT_EQ(wsc_tls_options_init(&o, sizeof o), 0);
  EXPECT_EQ(o.size, sizeof o);
  EXPECT_EQ(std::string(wsc_err_name(WSC_ECERT_EXPIRED)), "WSC_ECERT_EXPIRED");
  EXPECT_EQ(wsc_err_close_code(WSC_ECERT_EXPIRED), 0);  // 1015 is reported, never sent
}

}  // namespace
