// The socket layer on real sockets: listen, connect (at once and in progress), accept, vectored
// send and recv, names, options, adoption, and the errors each reports.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "socket.h"

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Waits until fd has one of events; returns what it has.
short wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  EXPECT_EQ(poll(&p, 1, 5000), 1);
  return p.revents;
}

// A listening socket on 127.0.0.1 and a free port: its fd, and the port in *port.
int listen_loopback(int backlog, uint16_t *port) {
  sockaddr_in any = loopback(0);
  int fd = -1;
  EXPECT_EQ(wsc::sock::listen_tcp(reinterpret_cast<sockaddr *>(&any), false, backlog, &fd), 0);
  wsc_addr_t a;
  EXPECT_EQ(wsc::sock::name(fd, false, false, &a), 0);
  *port = static_cast<uint16_t>(a.port);
  return fd;
}

std::string temp_socket_path() {
  return "/tmp/wsc-test-socket-" + std::to_string(getpid()) + ".sock";
}

}  // namespace

TEST(Socket, TcpListenConnectAcceptSendRecvAndNames) {
  sockaddr_in any = loopback(0);
  int lfd = -1;
  ASSERT_EQ(wsc::sock::listen_tcp(reinterpret_cast<sockaddr *>(&any), false, 16, &lfd), 0);
  wsc_addr_t laddr;
  ASSERT_EQ(wsc::sock::name(lfd, false, false, &laddr), 0);
  EXPECT_EQ(laddr.family, 4u);
  EXPECT_STREQ(laddr.address, "127.0.0.1");
  ASSERT_NE(laddr.port, 0u);
  sockaddr_storage peer_addr;
  EXPECT_EQ(wsc::sock::accept(lfd, &peer_addr), -EAGAIN);  // non-blocking: nobody waits yet

  sockaddr_in to = loopback(static_cast<uint16_t>(laddr.port));
  int cfd = -1;
  int rc = wsc::sock::connect_tcp(reinterpret_cast<sockaddr *>(&to), &cfd);
  ASSERT_GE(cfd, 0);
  ASSERT_TRUE(rc == 0 || rc == -EINPROGRESS) << rc;
  EXPECT_TRUE(wait_for(cfd, POLLOUT) & POLLOUT);
  EXPECT_EQ(wsc::sock::pending_error(cfd), 0);
  wait_for(lfd, POLLIN);
  int sfd = wsc::sock::accept(lfd, &peer_addr);
  ASSERT_GE(sfd, 0);
  EXPECT_EQ(peer_addr.ss_family, AF_INET);
  EXPECT_EQ(wsc::sock::set_nodelay(sfd, true), 0);
  EXPECT_EQ(wsc::sock::set_keepalive(sfd, true, 30), 0);

  wsc_addr_t peer, local;
  ASSERT_EQ(wsc::sock::name(sfd, true, false, &peer), 0);
  ASSERT_EQ(wsc::sock::name(cfd, false, false, &local), 0);
  EXPECT_EQ(peer.port, local.port);
  EXPECT_STREQ(peer.address, "127.0.0.1");

  char a[] = "hello ", b[] = "world";
  iovec iov[2] = {{a, 6}, {b, 5}};
  EXPECT_EQ(wsc::sock::send(cfd, iov, 2), 11);
  uint8_t buf[64];
  wait_for(sfd, POLLIN);
  ASSERT_EQ(wsc::sock::recv(sfd, buf, sizeof buf), 11);
  EXPECT_EQ(std::string(reinterpret_cast<char *>(buf), 11), "hello world");
  EXPECT_EQ(wsc::sock::recv(sfd, buf, sizeof buf), -EAGAIN);
  close(cfd);
  wait_for(sfd, POLLIN);
  EXPECT_EQ(wsc::sock::recv(sfd, buf, sizeof buf), 0);  // EOF
  // Writing to a peer that is gone fails with an error (no SIGPIPE), once the reset arrives.
  ssize_t w = 0;
  for (int i = 0; i < 100 && w >= 0; ++i) w = wsc::sock::send(sfd, iov, 2), usleep(1000);
  EXPECT_TRUE(w == -EPIPE || w == -ECONNRESET) << w;
  close(sfd);
  close(lfd);
}

TEST(Socket, RefusedConnectIsReportedBySoError) {
  uint16_t port = 0;
  close(listen_loopback(1, &port));  // the port is now closed
  ASSERT_NE(port, 0u);
  sockaddr_in to = loopback(port);
  int cfd = -1;
  int rc = wsc::sock::connect_tcp(reinterpret_cast<sockaddr *>(&to), &cfd);
  ASSERT_GE(cfd, 0);
  if (rc == -EINPROGRESS) {
    wait_for(cfd, POLLOUT);
    rc = wsc::sock::pending_error(cfd);
  }
  EXPECT_EQ(rc, -ECONNREFUSED);
  close(cfd);
}

TEST(Socket, ListenTwiceOnOnePortIsAddressInUse) {
  uint16_t port = 0;
  int a = listen_loopback(1, &port), b = -1;
  ASSERT_GE(a, 0);
  sockaddr_in same = loopback(port);
  EXPECT_EQ(wsc::sock::listen_tcp(reinterpret_cast<sockaddr *>(&same), false, 1, &b), -EADDRINUSE);
  EXPECT_EQ(b, -1);
  close(a);
}

TEST(Socket, UnixListenConnectAndPaths) {
  std::string path = temp_socket_path();
  unlink(path.c_str());
  int lfd = -1, again = -1;
  ASSERT_EQ(wsc::sock::listen_unix(path.c_str(), 4, &lfd), 0);
  EXPECT_EQ(wsc::sock::listen_unix(path.c_str(), 4, &again), -EADDRINUSE);  // the path exists
  int cfd = -1;
  EXPECT_EQ(wsc::sock::connect_unix(path.c_str(), &cfd), 0);  // Unix sockets connect at once
  sockaddr_storage peer_addr;
  int sfd = wsc::sock::accept(lfd, &peer_addr);
  ASSERT_GE(sfd, 0);
  wsc_addr_t local;
  ASSERT_EQ(wsc::sock::name(sfd, false, true, &local), 0);
  EXPECT_EQ(std::string(local.address), path);
  bool is_unix = false;
  EXPECT_EQ(wsc::sock::adopt(sfd, &is_unix), 0);
  EXPECT_TRUE(is_unix);
  close(sfd);
  close(cfd);
  close(lfd);
  unlink(path.c_str());

  int fd = -1;
  EXPECT_EQ(wsc::sock::connect_unix(path.c_str(), &fd), -ENOENT);  // nobody listens there
  if (fd >= 0) close(fd);
  EXPECT_EQ(wsc::sock::connect_unix(std::string(200, 'x').c_str(), &fd), -ENAMETOOLONG);
  EXPECT_EQ(wsc::sock::listen_unix("", 1, &fd), -ENAMETOOLONG);
}

TEST(Socket, AdoptRefusesWhatIsNotAStreamSocket) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  bool is_unix = false;
  EXPECT_EQ(wsc::sock::adopt(p[0], &is_unix), -EINVAL);
  close(p[0]);
  close(p[1]);
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(wsc::sock::adopt(udp, &is_unix), -EINVAL);
  close(udp);
}
