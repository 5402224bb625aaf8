// Non-blocking stream sockets (TCP and Unix) for the loop's own epoll set: thin wrappers over
// the system calls that return 0 or a negative errno (libuv's UV_E* values on Linux, so that
// wsc::from_uv maps them).
#ifndef WSC_SRC_SOCKET_H
#define WSC_SRC_SOCKET_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "wsc/conn.h"

namespace wsc {
namespace sock {

// host written as an IPv4 or IPv6 address (not a name) with port: true, and *out set.
bool numeric_address(const char *host, int port, struct sockaddr_storage *out);

// A listening socket on addr (IPv6 sockets are dual-stack unless v6_only): *fd, or an error.
int listen_tcp(const struct sockaddr *addr, bool v6_only, int backlog, int *fd);
// A listening Unix socket at path (which must not exist).
int listen_unix(const char *path, int backlog, int *fd);
// Starts connecting a new socket: 0 when connected at once, -EINPROGRESS while it connects
// (the socket turns writable when done: then pending_error()), else the error; *fd is set
// whenever a socket was created.
int connect_tcp(const struct sockaddr *addr, int *fd);
int connect_unix(const char *path, int *fd);
// The error of a finished connect (SO_ERROR), as a negative errno, or 0.
int pending_error(int fd);
// Accepts one connection, non-blocking: its fd, or a negative errno (-EAGAIN when none waits);
// peer receives its address.
int accept(int listen_fd, struct sockaddr_storage *peer);
// Makes an adopted socket non-blocking; *is_unix says its family. -EINVAL for a non-stream.
int adopt(int fd, bool *is_unix);

// Writes bufs as one vectored send (no SIGPIPE): bytes taken, or a negative errno.
ssize_t send(int fd, const struct iovec *iov, size_t n);
// Reads up to cap bytes: count, 0 at EOF, or a negative errno.
ssize_t recv(int fd, uint8_t *buf, size_t cap);

int set_nodelay(int fd, bool on);
int set_keepalive(int fd, bool on, unsigned delay_s);
// The local or remote address, as wsc_addr_t (a Unix socket's path in address).
int name(int fd, bool remote, bool is_unix, wsc_addr_t *out);

}  // namespace sock
}  // namespace wsc

#endif
