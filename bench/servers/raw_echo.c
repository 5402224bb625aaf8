#define _GNU_SOURCE
/* The ceiling of the benchmark kit: a raw TCP echo server on epoll, with no WebSocket framing
 * at all. Listens on 127.0.0.1, prints "PORT n", echoes every byte, exits when stdin closes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
  int fd;
  size_t pending_len; /* bytes the kernel did not take yet */
  char *pending;
};

static char buf[256 * 1024];

static void drop(int ep, struct peer *p) {
  epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
  close(p->fd);
  free(p->pending);
  free(p);
}

/* Writes what is pending, then reads and echoes until the socket is drained or full. */
static int serve(int ep, struct peer *p) {
  for (;;) {
    if (p->pending_len > 0) {
      ssize_t w = send(p->fd, p->pending, p->pending_len, MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN ? 0 : -1;
      memmove(p->pending, p->pending + w, p->pending_len - (size_t)w);
      p->pending_len -= (size_t)w;
      if (p->pending_len > 0) return 0;
    }
    ssize_t n = recv(p->fd, buf, sizeof buf, 0);
    if (n == 0) return -1;
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    ssize_t w = send(p->fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) return -1;
    if (w < 0) w = 0;
    if (w < n) {
      p->pending = realloc(p->pending, (size_t)(n - w));
      memcpy(p->pending, buf + w, (size_t)(n - w));
      p->pending_len = (size_t)(n - w);
      struct epoll_event ev = {EPOLLIN | EPOLLOUT | EPOLLET, {.ptr = p}};
      epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
      return 0;
    }
  }
}

int main(int argc, char **argv) {
  int one = 1;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in sa;
  socklen_t slen = sizeof sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)(argc > 1 ? atoi(argv[1]) : 0));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 4096) != 0) {
    perror("raw_echo");
    return 1;
  }
  getsockname(lfd, (struct sockaddr *)&sa, &slen);
  printf("PORT %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event ev = {EPOLLIN, {.ptr = NULL}};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event in_ev = {EPOLLIN | EPOLLHUP, {.ptr = &in_ev}};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in_ev);
  struct epoll_event events[512];
  for (;;) {
    int n = epoll_wait(ep, events, 512, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == &in_ev) {
        if (read(0, buf, sizeof buf) <= 0) return 0;
      } else if (events[i].data.ptr == NULL) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          struct peer *p = calloc(1, sizeof *p);
          p->fd = fd;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event pev = {EPOLLIN | EPOLLET, {.ptr = p}};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &pev);
        }
      } else {
        struct peer *p = events[i].data.ptr;
        if (serve(ep, p) < 0) drop(ep, p);
      }
    }
  }
}
