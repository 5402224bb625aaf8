// TLS on OpenSSL: contexts built from wsc_tls_options_t, and one session per connection whose
// record layer reads the ciphertext handed to decrypt() and writes into its own queue (out), so
// that the connection moves bytes between that queue and its socket as it does in cleartext.
#ifndef WSC_SRC_TLS_H
#define WSC_SRC_TLS_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "buffer.h"
#include "fifo.h"
#include "writeq.h"
#include "wsc/tls.h"

struct ssl_st;
struct ssl_ctx_st;

namespace wsc {

// An SSL_CTX and what wsc's sessions need to know of the options that built it.
class TlsContext {
 public:
  // Reads the options (files, PEM text, cipher lists): nullptr with WSC_ETLS_CONFIG or
  // WSC_ENOMEM in *err and the reason in *why.
  static std::shared_ptr<TlsContext> create(const wsc_tls_options_t &o, bool server, int *err, std::string *why);
  // The cache key of a client's options: equal keys build equal contexts.
  static std::string client_key(const wsc_tls_options_t &o);
  ~TlsContext();
  TlsContext(const TlsContext &) = delete;
  TlsContext &operator=(const TlsContext &) = delete;

  ssl_ctx_st *ctx = nullptr;
  bool server = false;
  uint32_t flags = 0;
  // Server: further certificates by SNI name (each its own SSL_CTX).
  std::vector<std::pair<std::string, ssl_ctx_st *>> sni;

 private:
  TlsContext() = default;
};

// One connection's TLS state.
class TlsSession {
 public:
  // Client: `name` is the server's name or IP literal (certificate check; SNI unless an IP or
  // no_sni). Server: name is unused. nullptr when out of memory.
  static TlsSession *create(const std::shared_ptr<TlsContext> &ctx, const std::string &name, bool no_sni,
                            BufferPool *pool);
  ~TlsSession();
  TlsSession(const TlsSession &) = delete;
  TlsSession &operator=(const TlsSession &) = delete;

  enum Status { kOk, kClosed, kError };
  // Decrypted bytes go to sink (false: stop, the rest is dropped) through buf, cap bytes at a
  // time. kClosed: the peer sent close_notify; kError: see error() and message().
  using Sink = bool (*)(void *ctx, uint8_t *p, size_t n);
  Status decrypt(const uint8_t *p, size_t n, uint8_t *buf, size_t cap, Sink sink, void *sink_ctx);
  // Encrypts n plaintext bytes whole into out: n, or 0 while the handshake waits for the peer,
  // or -1 on failure (error(), message()).
  long encrypt(const uint8_t *p, size_t n);
  // Queues close_notify, once, if the handshake completed.
  void close_notify();
  bool close_notify_sent() const { return close_notify_sent_; }
  bool handshake_done() const;

  // Ciphertext to send, and what its sending completes: sent(n) takes n bytes off out and
  // returns how many plaintext bytes are now wholly on their way.
  WriteQueue out;
  uint64_t sent(size_t n);
  uint64_t plain_pending() const { return plain_pending_; }

  int error() const { return error_; }
  const std::string &message() const { return message_; }
  // The connection's agreement (strings owned by the session).
  void info(wsc_tls_info_t *out);

  // The BIO's side.
  size_t in_left = 0;
  const uint8_t *in = nullptr;
  BufferPool *pool = nullptr;
  uint64_t out_total = 0;  // ciphertext ever queued
  bool out_failed = false;

 private:
  TlsSession() = default;
  void fail_from_ssl(int ssl_error);
  ssl_st *ssl_ = nullptr;
  std::shared_ptr<TlsContext> ctx_;
  bool close_notify_sent_ = false;
  bool app_data_seen_ = false;  // a failure before any is the handshake's
  std::string name_;            // the server's name (client)
  int error_ = 0;
  std::string message_;
  // (ciphertext total at the end of an encrypt, its plaintext bytes)
  Fifo<std::pair<uint64_t, uint64_t>> marks_;
  uint64_t sent_total_ = 0, plain_pending_ = 0;
  std::string alpn_, subject_, issuer_;
  bool info_ready_ = false;
};

// 1015 for a connection that failed its TLS handshake (RFC 6455 §7.4.1), else 1006.
uint16_t abnormal_close_code(int err);

}  // namespace wsc

#endif
