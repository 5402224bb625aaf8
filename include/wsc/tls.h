/* wsc: TLS (wss://) on OpenSSL, for clients and servers.
 *
 * Secure by default: a client verifies the server's certificate chain against the system's CA
 * store, and the certificate's host name (or IP address, for a URL that holds an IP literal);
 * TLS 1.2 is the oldest version spoken; renegotiation is refused. A verification failure fails
 * the connection with one of the WSC_ECERT_* codes and a message that says what failed; its
 * close event reports 1015 (RFC 6455 §7.4.1, TLS handshake failure).
 *
 * Give a wsc_tls_options_t to a client (wsc_client_options_t.tls: used for wss:// URLs) or to a
 * server (wsc_server_options_t.tls: every accepted connection then speaks TLS). Files and PEM
 * text are read when the client or server is created; a server's, or a client's with the same
 * settings on the same loop, are shared by its connections. */
#ifndef WSC_TLS_H
#define WSC_TLS_H

#include "common.h"
#include "conn.h"

WSC_BEGIN_DECLS

/* TLS flags (wsc_tls_options_t.flags). */
#define WSC_TLS_INSECURE_SKIP_VERIFY 0x1u /* client: accept any certificate (no chain, no host name
                                             check): ws' rejectUnauthorized: false. Never in
                                             production. */
#define WSC_TLS_REQUEST_CLIENT_CERT 0x2u  /* server: ask clients for a certificate; one that is
                                             missing or fails verification is allowed, and its
                                             result is in wsc_tls_info_t.verify_result */
#define WSC_TLS_REQUIRE_CLIENT_CERT 0x4u  /* server: ask for one and refuse the handshake
                                             without a valid one */
#define WSC_TLS_NO_SNI 0x8u               /* client: send no server name (SNI) */

/* Protocol versions (min_version). */
#define WSC_TLS_1_2 0x0303u
#define WSC_TLS_1_3 0x0304u

/* A server certificate chosen by the name the client asks for (SNI). */
typedef struct wsc_tls_sni_cert_s {
  const char *servername; /* "example.com", or "*.example.com" for any one label in its place */
  const char *cert_file;  /* PEM: the certificate, then its chain (or cert_pem) */
  const char *key_file;   /* PEM private key (or key_pem) */
  const char *cert_pem;   /* the same as text, NUL-terminated */
  const char *key_pem;
  const char *passphrase; /* for an encrypted key; NULL: none */
} wsc_tls_sni_cert_t;

typedef struct wsc_tls_options_s {
  uint32_t size;            /* sizeof(wsc_tls_options_t) */
  uint32_t flags;           /* WSC_TLS_* */
  /* Trust (client: the server's chain; server: clients' certificates). With none of the three,
   * the system store (OpenSSL's default paths, SSL_CERT_FILE / SSL_CERT_DIR, then the usual
   * distribution bundles). */
  const char *ca_file;      /* PEM bundle */
  const char *ca_path;      /* a directory of hashed certificates (c_rehash) */
  const char *ca_pem;       /* PEM text, NUL-terminated */
  /* Our certificate: the server's (required for a server, unless in sni_certs' first entry),
   * or the client's certificate. */
  const char *cert_file;    /* PEM: the certificate, then its chain */
  const char *key_file;     /* PEM private key */
  const char *cert_pem;     /* the same as text, NUL-terminated */
  const char *key_pem;
  const char *passphrase;   /* for an encrypted key; NULL: none */
  const char *ciphers;      /* TLS 1.2 cipher list, OpenSSL's syntax; NULL: OpenSSL's default */
  const char *ciphersuites; /* TLS 1.3 suites, OpenSSL's syntax; NULL: OpenSSL's default */
  /* Client: the name sent as SNI and checked against the certificate, instead of the URL's host
   * (ws' servername). Never sent when it is an IP address; WSC_TLS_NO_SNI sends none. */
  const char *servername;
  uint32_t min_version;     /* 0: WSC_TLS_1_2 (older versions are refused: so is a lower value) */
  uint32_t max_version;     /* 0: the newest OpenSSL speaks */
  const wsc_tls_sni_cert_t *sni_certs; /* server: further certificates, by server name */
  size_t nsni_certs;
} wsc_tls_options_t;

#define WSC_TLS_OPTIONS_INIT \
  { sizeof(wsc_tls_options_t), 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, 0 }

WSC_EXTERN int wsc_tls_options_init(wsc_tls_options_t *opts, size_t size);

/* What a TLS connection agreed on. Strings are owned by the connection (or the request) and
 * valid until its final event (or, for a reconnecting client, its next attempt); never NULL
 * ("" when there is nothing to say). */
typedef struct wsc_tls_info_s {
  uint32_t size;            /* sizeof(wsc_tls_info_t), set by the caller */
  int32_t verify_result;    /* the peer certificate's verification: 0 (OpenSSL's X509_V_OK), or
                               OpenSSL's X509_V_ERR_* code (-1: no certificate was presented) */
  uint32_t handshake_done;  /* 1 once the TLS handshake completed */
  uint32_t reserved_;
  const char *version;      /* "TLSv1.3" */
  const char *cipher;       /* "TLS_AES_256_GCM_SHA384" */
  const char *alpn;         /* "http/1.1", or "" */
  const char *servername;   /* SNI: the name the client sent (server) or sends (client) */
  const char *peer_subject; /* the peer certificate's subject, RFC 2253 ("CN=localhost,O=wsc") */
  const char *peer_issuer;
  const char *verify_message; /* the verification result in words ("ok", "certificate has expired") */
} wsc_tls_info_t;

/* Returns 0, or WSC_EINVAL when the connection does not use TLS (or out is NULL or too small). */
WSC_EXTERN int wsc_conn_tls_info(const wsc_conn_t *conn, wsc_tls_info_t *out);

WSC_END_DECLS

#endif /* WSC_TLS_H */
