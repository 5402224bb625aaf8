// Non-blocking stream sockets for the loop's epoll set (socket.h).
#include "socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include <cerrno>
#include <cstring>

namespace wsc {
void addr_from_sockaddr(const struct sockaddr *sa, wsc_addr_t *out);

namespace sock {
namespace {

int new_socket(int family, int *fd) {
  *fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return *fd < 0 ? -errno : 0;
}

// Closes fd (keeping errno's value as the result) and marks it gone.
int fail_closing(int *fd) {
  int err = -errno;
  ::close(*fd);
  *fd = -1;
  return err;
}

socklen_t addr_len(const struct sockaddr *addr) {
  return addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

int unix_address(const char *path, sockaddr_un *sun) {
  std::memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  size_t n = std::strlen(path);
  if (n == 0 || n >= sizeof sun->sun_path) return -ENAMETOOLONG;
  std::memcpy(sun->sun_path, path, n);
  return 0;
}

}  // namespace

bool numeric_address(const char *host, int port, struct sockaddr_storage *out) {
  *out = sockaddr_storage{};
  return uv_ip4_addr(host, port, reinterpret_cast<sockaddr_in *>(out)) == 0 ||
         uv_ip6_addr(host, port, reinterpret_cast<sockaddr_in6 *>(out)) == 0;
}

int listen_tcp(const struct sockaddr *addr, bool v6_only, int backlog, int *fd) {
  int rc = new_socket(addr->sa_family, fd);
  if (rc != 0) return rc;
  int on = 1, v6 = v6_only ? 1 : 0;
  // As libuv: a restarted server may bind its port while old connections linger in TIME_WAIT.
  if (::setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return fail_closing(fd);
  if (addr->sa_family == AF_INET6 && ::setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof v6) != 0)
    return fail_closing(fd);
  if (::bind(*fd, addr, addr_len(addr)) != 0 || ::listen(*fd, backlog) != 0) return fail_closing(fd);
  return 0;
}

int listen_unix(const char *path, int backlog, int *fd) {
  sockaddr_un sun;
  int rc = unix_address(path, &sun);
  if (rc == 0) rc = new_socket(AF_UNIX, fd);
  if (rc != 0) return rc;
  if (::bind(*fd, reinterpret_cast<sockaddr *>(&sun), sizeof sun) != 0) return fail_closing(fd);
  if (::listen(*fd, backlog) != 0) {
    rc = fail_closing(fd);
    ::unlink(path);
    return rc;
  }
  return 0;
}

namespace {
int connect_to(int family, const struct sockaddr *addr, socklen_t len, int *fd) {
  int rc = new_socket(family, fd);
  if (rc != 0) return rc;
  while (::connect(*fd, addr, len) != 0) {
    if (errno == EINTR) continue;
    return errno == EINPROGRESS ? -EINPROGRESS : -errno;
  }
  return 0;
}
}  // namespace

int connect_tcp(const struct sockaddr *addr, int *fd) { return connect_to(addr->sa_family, addr, addr_len(addr), fd); }

int connect_unix(const char *path, int *fd) {
  *fd = -1;
  sockaddr_un sun;
  int rc = unix_address(path, &sun);
  if (rc != 0) return rc;
  return connect_to(AF_UNIX, reinterpret_cast<sockaddr *>(&sun), sizeof sun, fd);
}

int pending_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
  return -err;
}

int accept(int listen_fd, struct sockaddr_storage *peer) {
  for (;;) {
    socklen_t len = sizeof *peer;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr *>(peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    // A connection that was reset while it waited in the backlog: take the next.
    if (errno != EINTR && errno != ECONNABORTED) return -errno;
  }
}

int adopt(int fd, bool *is_unix) {
  int type = 0;
  socklen_t len = sizeof type;
  sockaddr_storage ss;
  socklen_t slen = sizeof ss;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &slen) != 0)
    return -EINVAL;
  if (ss.ss_family != AF_UNIX && ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return -EINVAL;
  *is_unix = ss.ss_family == AF_UNIX;
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return -errno;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return 0;
}

ssize_t send(int fd, const struct iovec *iov, size_t n) {
  msghdr msg{};
  msg.msg_iov = const_cast<struct iovec *>(iov);
  msg.msg_iovlen = n;
  for (;;) {
    // One buffer (the usual case) takes send(2), which skips sendmsg's copy-in of a header and
    // an iovec array.
    ssize_t w = n == 1 ? ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT)
                       : ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w >= 0) return w;
    if (errno != EINTR) return -errno;
  }
}

ssize_t recv(int fd, uint8_t *buf, size_t cap) {
  for (;;) {
    ssize_t r = ::recv(fd, buf, cap, 0);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

int set_nodelay(int fd, bool on) {
  int v = on ? 1 : 0;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0 ? 0 : -errno;
}

int set_keepalive(int fd, bool on, unsigned delay_s) {
  int v = on ? 1 : 0, d = static_cast<int>(delay_s ? delay_s : 1);
  if (::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v) != 0) return -errno;
  if (on && ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &d, sizeof d) != 0) return -errno;
  return 0;
}

int name(int fd, bool remote, bool is_unix, wsc_addr_t *out) {
  *out = wsc_addr_t{};
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int rc = remote ? ::getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len)
                  : ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
  if (rc != 0) return -errno;
  if (is_unix) {
    const auto *sun = reinterpret_cast<const sockaddr_un *>(&ss);
    size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    n = strnlen(sun->sun_path, n < sizeof sun->sun_path ? n : sizeof sun->sun_path);
    if (n >= sizeof out->address) n = sizeof out->address - 1;
    std::memcpy(out->address, sun->sun_path, n);
    return 0;
  }
  addr_from_sockaddr(reinterpret_cast<sockaddr *>(&ss), out);
  return 0;
}

}  // namespace sock
}  // namespace wsc
