// TLS on OpenSSL (see tls.h). Every call into OpenSSL starts with a clear error queue: the
// queue is per thread and shared with whatever else runs there (Node's own TLS, inside Node).
#include "tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <strings.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>

#include "options.h"
#include "wsc/close.h"
#include "wsc/error.h"

namespace wsc {
namespace {

// ---- the BIO between OpenSSL's record layer and the session ---------------------------------

int bio_write(BIO *b, const char *p, int n) {
  auto *s = static_cast<TlsSession *>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (n <= 0) return 0;
  if (!s->out.append(reinterpret_cast<const uint8_t *>(p), static_cast<size_t>(n), s->pool)) {
    s->out_failed = true;
    return -1;
  }
  s->out_total += static_cast<uint64_t>(n);
  return n;
}

int bio_read(BIO *b, char *p, int n) {
  auto *s = static_cast<TlsSession *>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (s->in_left == 0) {  // everything given was read: more must come from the socket
    BIO_set_retry_read(b);
    return -1;
  }
  size_t k = static_cast<size_t>(n) < s->in_left ? static_cast<size_t>(n) : s->in_left;
  std::memcpy(p, s->in, k);
  s->in += k;
  s->in_left -= k;
  return static_cast<int>(k);
}

long bio_ctrl(BIO *, int cmd, long, void *) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

BIO_METHOD *bio_method() {
  static BIO_METHOD *method = [] {
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "wsc session");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, [](BIO *b) {
      BIO_set_init(b, 1);
      return 1;
    });
    return m;
  }();
  return method;
}

// ---- contexts --------------------------------------------------------------------------------

std::string last_error_text() {
  unsigned long e = ERR_peek_last_error();
  const char *reason = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown error";
}

bool config_error(std::string *why, const std::string &what) {
  *why = what + ": " + last_error_text();
  return false;
}

int passphrase_cb(char *buf, int size, int, void *user) {
  if (user == nullptr) return -1;  // never a terminal prompt
  size_t n = std::strlen(static_cast<const char *>(user));
  if (n > static_cast<size_t>(size)) return -1;
  std::memcpy(buf, user, n);
  return static_cast<int>(n);
}

bool file_readable(const char *path) { return path != nullptr && access(path, R_OK) == 0; }

// The system's trust store: OpenSSL's default paths (honouring SSL_CERT_FILE and SSL_CERT_DIR),
// and when the OpenSSL in use was built for other paths (Node's own, inside Node), the bundle
// and directory of the common distributions.
bool load_system_store(SSL_CTX *ctx, std::string *why) {
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) return config_error(why, "cannot load the system CA store");
  bool file_env = std::getenv(X509_get_default_cert_file_env()) != nullptr;
  bool dir_env = std::getenv(X509_get_default_cert_dir_env()) != nullptr;
  if (!file_env && !file_readable(X509_get_default_cert_file())) {
    static const char *const bundles[] = {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                                          "/etc/ssl/ca-bundle.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
                                          "/etc/ssl/cert.pem"};
    for (const char *b : bundles)
      if (file_readable(b)) {
        SSL_CTX_load_verify_locations(ctx, b, nullptr);
        break;
      }
  }
  if (!dir_env && access(X509_get_default_cert_dir(), X_OK) != 0 && access("/etc/ssl/certs", X_OK) == 0)
    SSL_CTX_load_verify_locations(ctx, nullptr, "/etc/ssl/certs");
  ERR_clear_error();
  return true;
}

bool load_trust(SSL_CTX *ctx, const wsc_tls_options_t &o, std::string *why) {
  if (o.ca_file || o.ca_path) {
    if (SSL_CTX_load_verify_locations(ctx, o.ca_file, o.ca_path) != 1)
      return config_error(why, std::string("cannot load CA ") + (o.ca_file ? o.ca_file : o.ca_path));
    if (o.ca_file) {  // the issuers a server names when it asks for a client certificate
      if (STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o.ca_file)) SSL_CTX_set_client_CA_list(ctx, names);
    }
  }
  if (o.ca_pem) {
    BIO *bio = BIO_new_mem_buf(o.ca_pem, -1);
    if (bio == nullptr) return config_error(why, "out of memory");
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int count = 0;
    while (X509 *x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, x);
      SSL_CTX_add_client_CA(ctx, x);
      X509_free(x);
      ++count;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (count == 0) {
      *why = "ca_pem holds no PEM certificate";
      return false;
    }
  }
  if (!o.ca_file && !o.ca_path && !o.ca_pem) return load_system_store(ctx, why);
  return true;
}

bool load_identity(SSL_CTX *ctx, const char *cert_file, const char *key_file, const char *cert_pem, const char *key_pem,
                   const char *passphrase, std::string *why) {
  if (!cert_file && !cert_pem && !key_file && !key_pem) return true;
  if (!(cert_file || cert_pem) || !(key_file || key_pem)) {
    *why = "a certificate needs its private key, and a key its certificate";
    return false;
  }
  if (cert_file) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
      return config_error(why, std::string("cannot load certificate ") + cert_file);
  } else {
    BIO *bio = BIO_new_mem_buf(cert_pem, -1);
    X509 *leaf = bio ? PEM_read_bio_X509_AUX(bio, nullptr, nullptr, nullptr) : nullptr;
    bool ok = leaf != nullptr && SSL_CTX_use_certificate(ctx, leaf) == 1;
    X509_free(leaf);
    while (ok) {  // the chain that follows the leaf
      X509 *ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
      if (ca == nullptr) break;
      if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
        X509_free(ca);
        ok = false;
      }
    }
    BIO_free(bio);
    if (!ok) return config_error(why, "cannot load the certificate from cert_pem");
    ERR_clear_error();  // the end of the PEM text
  }
  SSL_CTX_set_default_passwd_cb(ctx, passphrase_cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, const_cast<char *>(passphrase));
  bool ok;
  if (key_file) {
    ok = SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) == 1;
  } else {
    BIO *bio = BIO_new_mem_buf(key_pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, passphrase_cb, const_cast<char *>(passphrase)) : nullptr;
    ok = key != nullptr && SSL_CTX_use_PrivateKey(ctx, key) == 1;
    EVP_PKEY_free(key);
    BIO_free(bio);
  }
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);  // the passphrase is not kept
  std::string key_name = key_file ? key_file : "from key_pem";
  if (!ok && ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
    return config_error(why, "the private key " + key_name + " does not match the certificate");
  if (!ok) return config_error(why, "cannot load private key " + key_name);
  if (SSL_CTX_check_private_key(ctx) != 1) return config_error(why, "the private key does not match the certificate");
  return true;
}

bool version_valid(uint32_t v) { return v == 0 || v == WSC_TLS_1_2 || v == WSC_TLS_1_3; }

// Server ALPN: http/1.1 when the client offers it; no ALPN answer otherwise.
int select_alpn(SSL *, const unsigned char **out, unsigned char *outlen, const unsigned char *in, unsigned inlen,
                void *) {
  for (unsigned i = 0; i < inlen;) {
    unsigned len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// "*.example.com" stands for exactly one label.
bool name_matches(const std::string &pattern, const char *name) {
  if (pattern.rfind("*.", 0) == 0) {
    const char *dot = std::strchr(name, '.');
    return dot != nullptr && dot != name && strcasecmp(dot + 1, pattern.c_str() + 2) == 0;
  }
  return strcasecmp(pattern.c_str(), name) == 0;
}

int select_sni(SSL *ssl, int *, void *arg) {
  auto *c = static_cast<TlsContext *>(arg);
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;
  for (const auto &e : c->sni)
    if (name_matches(e.first, name)) {
      SSL_set_SSL_CTX(ssl, e.second);
      return SSL_TLSEXT_ERR_OK;
    }
  return SSL_TLSEXT_ERR_NOACK;  // the default certificate answers
}

// One SSL_CTX from the options, with this identity.
SSL_CTX *build_ctx(const wsc_tls_options_t &o, bool server, const char *cert_file, const char *key_file,
                   const char *cert_pem, const char *key_pem, const char *passphrase, std::string *why) {
  ERR_clear_error();
  SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) {
    config_error(why, "cannot create an SSL context");
    return nullptr;
  }
  bool ok = true;
  int min = o.min_version ? static_cast<int>(o.min_version) : TLS1_2_VERSION;
  ok = ok && SSL_CTX_set_min_proto_version(ctx, min) == 1;
  if (ok && o.max_version) ok = SSL_CTX_set_max_proto_version(ctx, static_cast<int>(o.max_version)) == 1;
  if (!ok) config_error(why, "unsupported TLS version range");
  // RFC 5746 aside, renegotiation is refused outright: it is the source of several attacks and
  // a WebSocket never needs it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               (server ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  // Idle connections give their record buffers back; the plaintext queue may move between
  // retries of a write.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  if (ok && o.ciphers && SSL_CTX_set_cipher_list(ctx, o.ciphers) != 1)
    ok = config_error(why, std::string("invalid cipher list \"") + o.ciphers + "\"");
  if (ok && o.ciphersuites && SSL_CTX_set_ciphersuites(ctx, o.ciphersuites) != 1)
    ok = config_error(why, std::string("invalid TLS 1.3 cipher suites \"") + o.ciphersuites + "\"");
  ok = ok && load_identity(ctx, cert_file, key_file, cert_pem, key_pem, passphrase, why);
  if (server) {
    static const unsigned char sid[] = "wsc";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    if (o.flags & (WSC_TLS_REQUEST_CLIENT_CERT | WSC_TLS_REQUIRE_CLIENT_CERT)) {
      ok = ok && load_trust(ctx, o, why);
      if (o.flags & WSC_TLS_REQUIRE_CLIENT_CERT)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      else  // asked, not required: the result is kept for the application to judge
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX *) { return 1; });
    }
  } else {
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
    if (o.flags & WSC_TLS_INSECURE_SKIP_VERIFY) {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    } else {
      ok = ok && load_trust(ctx, o, why);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }
  }
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

int cert_error(long v) {
  switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return WSC_ECERT_EXPIRED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return WSC_ECERT_HOSTNAME;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return WSC_ECERT_UNTRUSTED;
    default:
      return WSC_ECERT_INVALID;
  }
}

std::string name_text(X509_NAME *name) {
  if (name == nullptr) return "";
  BIO *bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char *p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  std::string s(p ? p : "", n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(bio);
  return s;
}

bool is_ip_literal(const std::string &s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

// ---- TlsContext --------------------------------------------------------------------------------

std::shared_ptr<TlsContext> TlsContext::create(const wsc_tls_options_t &o, bool server, int *err, std::string *why) {
  *err = WSC_ETLS_CONFIG;
  constexpr uint32_t kFlags = WSC_TLS_INSECURE_SKIP_VERIFY | WSC_TLS_REQUEST_CLIENT_CERT | WSC_TLS_REQUIRE_CLIENT_CERT |
                              WSC_TLS_NO_SNI;
  if ((o.flags & ~kFlags) != 0 || !version_valid(o.min_version) || !version_valid(o.max_version) ||
      (o.max_version && o.max_version < (o.min_version ? o.min_version : WSC_TLS_1_2)) ||
      (o.nsni_certs > 0 && o.sni_certs == nullptr)) {
    *why = "invalid TLS options";
    *err = WSC_EINVAL;
    return nullptr;
  }
  if (bio_method() == nullptr) {
    *why = "cannot create the TLS BIO";
    *err = WSC_ENOMEM;
    return nullptr;
  }
  std::shared_ptr<TlsContext> c(new (std::nothrow) TlsContext());
  if (!c) {
    *err = WSC_ENOMEM;
    *why = "out of memory";
    return nullptr;
  }
  c->server = server;
  c->flags = o.flags;
  const wsc_tls_sni_cert_t *first = o.nsni_certs ? &o.sni_certs[0] : nullptr;
  bool own_identity = o.cert_file || o.cert_pem || o.key_file || o.key_pem;
  if (server && !own_identity && first == nullptr) {
    *why = "a TLS server needs a certificate and its key";
    return nullptr;
  }
  if (own_identity || first == nullptr)
    c->ctx = build_ctx(o, server, o.cert_file, o.key_file, o.cert_pem, o.key_pem, o.passphrase, why);
  else  // the first SNI certificate is the default
    c->ctx = build_ctx(o, server, first->cert_file, first->key_file, first->cert_pem, first->key_pem,
                       first->passphrase, why);
  if (c->ctx == nullptr) return nullptr;
  if (!server) return c;
  for (size_t i = 0; i < o.nsni_certs; ++i) {
    const wsc_tls_sni_cert_t &e = o.sni_certs[i];
    if (e.servername == nullptr || *e.servername == '\0') {
      *why = "an SNI certificate needs its server name";
      return nullptr;
    }
    SSL_CTX *sc = build_ctx(o, true, e.cert_file, e.key_file, e.cert_pem, e.key_pem, e.passphrase, why);
    if (sc == nullptr) {
      *why = std::string("SNI certificate for ") + e.servername + ": " + *why;
      return nullptr;
    }
    c->sni.emplace_back(e.servername, sc);
  }
  if (!c->sni.empty()) {
    SSL_CTX_set_tlsext_servername_callback(c->ctx, select_sni);
    SSL_CTX_set_tlsext_servername_arg(c->ctx, c.get());
  }
  *err = 0;
  return c;
}

std::string TlsContext::client_key(const wsc_tls_options_t &o) {
  std::string k = std::to_string(o.flags) + "/" + std::to_string(o.min_version) + "/" + std::to_string(o.max_version);
  for (const char *s : {o.ca_file, o.ca_path, o.ca_pem, o.cert_file, o.key_file, o.cert_pem, o.key_pem, o.passphrase,
                        o.ciphers, o.ciphersuites}) {
    k += '\0';
    k += s ? "+" + std::string(s) : std::string("-");
  }
  return k;
}

TlsContext::~TlsContext() {
  for (auto &e : sni) SSL_CTX_free(e.second);
  SSL_CTX_free(ctx);
}

// ---- TlsSession --------------------------------------------------------------------------------

TlsSession *TlsSession::create(const std::shared_ptr<TlsContext> &ctx, const std::string &name, bool no_sni,
                               BufferPool *pool) {
  ERR_clear_error();
  std::unique_ptr<TlsSession> s(new (std::nothrow) TlsSession());
  if (!s) return nullptr;
  s->ctx_ = ctx;
  s->pool = pool;
  s->ssl_ = SSL_new(ctx->ctx);
  BIO *bio = s->ssl_ ? BIO_new(bio_method()) : nullptr;
  if (bio == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  BIO_set_data(bio, s.get());
  SSL_set_bio(s->ssl_, bio, bio);
  if (ctx->server) {
    SSL_set_accept_state(s->ssl_);
    return s.release();
  }
  SSL_set_connect_state(s->ssl_);
  bool ok = true;
  if (is_ip_literal(name)) {  // RFC 6066 §3: SNI never carries an address
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl_), name.c_str()) == 1;
  } else {
    ok = SSL_set1_host(s->ssl_, name.c_str()) == 1;
    if (ok && !no_sni) ok = SSL_set_tlsext_host_name(s->ssl_, name.c_str()) == 1;
  }
  s->name_ = name;
  ERR_clear_error();
  return ok ? s.release() : nullptr;
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);  // frees the BIO too
  out.clear(pool);
}

bool TlsSession::handshake_done() const { return SSL_is_init_finished(ssl_) == 1; }

TlsSession::Status TlsSession::decrypt(const uint8_t *p, size_t n, uint8_t *buf, size_t cap, Sink sink,
                                       void *sink_ctx) {
  in = p;
  in_left = n;
  size_t filled = 0;
  Status status = kOk;
  int cap_int = cap > INT_MAX ? INT_MAX : static_cast<int>(cap);
  for (;;) {
    ERR_clear_error();
    int r = SSL_read(ssl_, buf + filled, cap_int - static_cast<int>(filled));
    if (r > 0) {
      app_data_seen_ = true;
      filled += static_cast<size_t>(r);
      if (filled < cap) continue;
      bool go_on = sink(sink_ctx, buf, filled);
      filled = 0;
      if (go_on) continue;
      in_left = 0;  // the connection is ending: the rest is dropped
      return kOk;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ && !out_failed) break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      status = kClosed;  // close_notify: the peer sends nothing more
    } else {
      fail_from_ssl(e);
      status = kError;
    }
    break;
  }
  in_left = 0;
  if (filled > 0 && !sink(sink_ctx, buf, filled)) return kOk;
  return status;
}

long TlsSession::encrypt(const uint8_t *p, size_t n) {
  if (n == 0) return 0;
  if (n > INT_MAX) n = INT_MAX;
  ERR_clear_error();
  int r = SSL_write(ssl_, p, static_cast<int>(n));
  if (r > 0 && !out_failed) {
    marks_.emplace_back(out_total, static_cast<uint64_t>(r));
    plain_pending_ += static_cast<uint64_t>(r);
    return r;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ && !out_failed) return 0;  // the handshake waits for the peer
  fail_from_ssl(e);
  return -1;
}

void TlsSession::close_notify() {
  if (close_notify_sent_ || !handshake_done()) return;
  close_notify_sent_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues the alert; the peer's answer is not awaited
  ERR_clear_error();
}

uint64_t TlsSession::sent(size_t n) {
  out.consume(n, pool);
  sent_total_ += n;
  uint64_t done = 0;
  while (!marks_.empty() && marks_.front().first <= sent_total_) {
    done += marks_.front().second;
    marks_.pop_front();
  }
  plain_pending_ -= done;
  return done;
}

void TlsSession::fail_from_ssl(int ssl_error) {
  unsigned long e = ERR_peek_error();
  int reason = e ? ERR_GET_REASON(e) : 0;
  long v = SSL_get_verify_result(ssl_);
  bool in_handshake = !app_data_seen_;
  if (out_failed) {
    error_ = WSC_ENOMEM;
    message_ = "out of memory";
  } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && v != X509_V_OK) {
    error_ = cert_error(v);
    message_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(v);
    if (error_ == WSC_ECERT_HOSTNAME) message_ += " (the certificate is not valid for " + name_ + ")";
  } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE ||
             reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED) {
    error_ = WSC_ECERT_REQUIRED;
    message_ = ctx_->server ? "the client sent no certificate, and one is required"
                            : "the server requires a client certificate";
  } else {
    error_ = in_handshake ? WSC_ETLS_HANDSHAKE : WSC_ETLS;
    const char *text = e ? ERR_reason_error_string(e) : nullptr;
    message_ = std::string(in_handshake ? "TLS handshake failed: " : "TLS error: ") +
               (text ? text : ssl_error == SSL_ERROR_SYSCALL ? "unexpected end of the stream" : "unknown error");
  }
  ERR_clear_error();
}

void TlsSession::info(wsc_tls_info_t *o) {
  X509 *peer = SSL_get0_peer_certificate(ssl_);
  if (!info_ready_ && handshake_done()) {
    const unsigned char *a = nullptr;
    unsigned alen = 0;
    SSL_get0_alpn_selected(ssl_, &a, &alen);
    alpn_.assign(reinterpret_cast<const char *>(a ? a : reinterpret_cast<const unsigned char *>("")), alen);
    if (peer != nullptr) {
      subject_ = name_text(X509_get_subject_name(peer));
      issuer_ = name_text(X509_get_issuer_name(peer));
    }
    info_ready_ = true;
  }
  long v = peer ? SSL_get_verify_result(ssl_) : -1;
  const char *sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  const char *cipher = SSL_get_cipher_name(ssl_);
  o->verify_result = static_cast<int32_t>(v);
  o->handshake_done = handshake_done() ? 1 : 0;
  o->version = SSL_get_version(ssl_);
  o->cipher = cipher && handshake_done() ? cipher : "";
  o->alpn = alpn_.c_str();
  o->servername = sni ? sni : "";
  o->peer_subject = subject_.c_str();
  o->peer_issuer = issuer_.c_str();
  o->verify_message = peer ? X509_verify_cert_error_string(v) : "no peer certificate";
}

uint16_t abnormal_close_code(int err) {
  return err <= WSC_ETLS_HANDSHAKE && err >= WSC_ECERT_INVALID ? WSC_CLOSE_TLS_HANDSHAKE_FAILED : WSC_CLOSE_ABNORMAL;
}

}  // namespace wsc

int wsc_tls_options_init(wsc_tls_options_t *opts, size_t size) {
  static const wsc_tls_options_t defaults = WSC_TLS_OPTIONS_INIT;
  return wsc::options_init(opts, size, defaults);
}
