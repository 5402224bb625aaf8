// The loop (src/loop.cc): owned and wrapped loops, thread-safe posts, embedding queries.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "net.h"
#include "net_support.h"

using namespace wsc_test;

TEST(Loop, OwnedLoopRunsAndClosesClean) {
  wsc_loop_t *loop = nullptr;
  ASSERT_EQ(wsc_loop_new(&loop, nullptr), 0);
  EXPECT_NE(wsc_loop_uv(loop), nullptr);
  EXPECT_GE(wsc_loop_backend_fd(loop), 0);
  EXPECT_EQ(wsc_loop_run(loop, WSC_RUN_NOWAIT), 0) << "nothing keeps an empty loop alive";
  EXPECT_EQ(wsc_loop_run(loop, WSC_RUN_DEFAULT), 0);
  EXPECT_EQ(wsc_loop_handle_count(loop), 0u);
  EXPECT_EQ(wsc_loop_free(loop), 0);
  EXPECT_EQ(wsc_loop_free(nullptr), 0);
  EXPECT_EQ(wsc_loop_new(nullptr, nullptr), WSC_EINVAL);
  EXPECT_EQ(wsc_loop_run(nullptr, WSC_RUN_NOWAIT), WSC_EINVAL);
}

TEST(Loop, PostsStillQueuedRunWhenTheLoopIsFreed) {
  // Each post gets its answer: a thread-safe send to a connection that is gone reports
  // WSC_ENOTFOUND from inside wsc_loop_free, and its copy of the message is released (ASan).
  wsc_loop_t *loop = nullptr;
  ASSERT_EQ(wsc_loop_new(&loop, nullptr), 0);
  int ran = 0, status = 0;
  ASSERT_EQ(wsc_loop_post(loop, [](wsc_loop_t *, void *ud) { ++*static_cast<int *>(ud); }, &ran), 0);
  std::string big(100000, 'x');
  ASSERT_EQ(wsc_conn_send_threadsafe(loop, 42, WSC_OP_BINARY, big.data(), big.size(),
                                     [](wsc_conn_t *c, int st, void *ud) {
                                       EXPECT_EQ(c, nullptr);
                                       *static_cast<int *>(ud) = st;
                                     },
                                     &status),
            0);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(wsc_loop_free(loop), 0);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(status, WSC_ENOTFOUND);
}

TEST(Loop, WrapsALoopItsCallerRuns) {
  uv_loop_t uv;
  ASSERT_EQ(uv_loop_init(&uv), 0);
  wsc_loop_t *loop = nullptr;
  ASSERT_EQ(wsc_loop_new(&loop, &uv), 0);
  EXPECT_EQ(wsc_loop_uv(loop), &uv);
  int ran = 0;
  wsc_loop_keep_alive(loop, 1);  // only a post is coming: keep the loop running for it
  ASSERT_EQ(wsc_loop_post(loop, [](wsc_loop_t *l, void *ud) {
    ++*static_cast<int *>(ud);
    wsc_loop_keep_alive(l, 0);
  }, &ran), 0);
  uv_run(&uv, UV_RUN_DEFAULT);  // the owner runs its loop; wsc's work happens on it
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(wsc_loop_free(loop), 0);  // frees itself once its handles close, on the owner's loop
  uv_run(&uv, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&uv), 0) << "wsc left a handle open on its owner's loop";
}

TEST(Loop, PostsFromManyThreadsAllRunInOrderPerThread) {
  TestLoop t;
  constexpr int kThreads = 4, kPosts = 2000;
  struct Item {
    int thread, seq;
    std::vector<std::vector<int>> *seen;
  };
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPosts; ++i) {
        auto *item = new Item{th, i, &seen};
        ASSERT_EQ(wsc_loop_post(t.loop,
                                [](wsc_loop_t *, void *ud) {
                                  std::unique_ptr<Item> it(static_cast<Item *>(ud));
                                  (*it->seen)[it->thread].push_back(it->seq);
                                },
                                item),
                  0);
        total++;
      }
    });
  }
  // The async handle does not keep the loop alive, so the test drives it until all have run.
  t.run_until([&] {
    size_t n = 0;
    for (auto &v : seen) n += v.size();
    return n == kThreads * kPosts;
  });
  for (auto &th : threads) th.join();
  for (int th = 0; th < kThreads; ++th) {
    ASSERT_EQ(seen[th].size(), static_cast<size_t>(kPosts));
    for (int i = 0; i < kPosts; ++i) ASSERT_EQ(seen[th][i], i);
  }
  t.close_clean();
}

// An owned loop that only sockets keep running still delivers what libuv's own unreferenced
// handles see: a post (its async handle) and a caller's uv_poll_t (as bench/servers' stdin
// watch). libuv's uv_run does nothing on a loop with no referenced handle, so wsc must make it.
TEST(Loop, UnreferencedHandlesAreServedWhileOnlySocketsKeepTheLoopRunning) {
  wsc_loop_t *loop = nullptr;
  ASSERT_EQ(wsc_loop_new(&loop, nullptr), 0);
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.host = "127.0.0.1";
  wsc_server_t *srv = nullptr;
  ASSERT_EQ(wsc_server_new(&srv, loop, &so, nullptr, nullptr), 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  struct State {
    wsc_server_t *srv;
    uv_poll_t poll;
    bool posted = false, polled = false;
  } st{srv, {}};
  ASSERT_EQ(uv_poll_init(static_cast<uv_loop_t *>(wsc_loop_uv(loop)), &st.poll, fds[0]), 0);
  st.poll.data = &st;
  uv_poll_start(&st.poll, UV_READABLE, [](uv_poll_t *h, int, int) {
    auto *s = static_cast<State *>(h->data);
    s->polled = true;
    uv_close(reinterpret_cast<uv_handle_t *>(h), nullptr);
    if (s->posted) wsc_server_close(s->srv, 0);
  });
  uv_unref(reinterpret_cast<uv_handle_t *>(&st.poll));
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    wsc_loop_post(loop, [](wsc_loop_t *, void *ud) { static_cast<State *>(ud)->posted = true; }, &st);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(write(fds[1], "x", 1), 1);
  });
  EXPECT_EQ(wsc_loop_run(loop, WSC_RUN_DEFAULT), 0);  // ends once the server is closed
  other.join();
  EXPECT_TRUE(st.posted);
  EXPECT_TRUE(st.polled);
  EXPECT_EQ(wsc_loop_free(loop), 0);
  close(fds[0]);
  close(fds[1]);
}

TEST(Loop, FreeIsRefusedWhileAServerIsOpen) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.host = "127.0.0.1";
  wsc_server_t *srv = nullptr;
  ASSERT_EQ(wsc_server_new(&srv, t.loop, &so, nullptr, nullptr), 0);
  EXPECT_EQ(wsc_loop_handle_count(t.loop), 1u);
  EXPECT_EQ(wsc_loop_free(t.loop), WSC_EBUSY);
  wsc_server_close(srv, 0);
  t.close_clean();
}

TEST(Loop, EmbeddingQueries) {
  TestLoop t;
  uv_timer_t timer;
  uv_timer_init(static_cast<uv_loop_t *>(wsc_loop_uv(t.loop)), &timer);
  uv_timer_start(&timer, [](uv_timer_t *) {}, 250, 0);
  wsc_loop_run(t.loop, WSC_RUN_NOWAIT);  // libuv answers 0 before the loop's first pass
  int timeout = wsc_loop_backend_timeout(t.loop);
  EXPECT_GT(timeout, 0);
  EXPECT_LE(timeout, 250);
  uv_close(reinterpret_cast<uv_handle_t *>(&timer), nullptr);
  EXPECT_EQ(wsc_loop_run(t.loop, WSC_RUN_NOWAIT), 0);
  t.close_clean();
}

TEST(Loop, AddressesAreFormattedAsInetNtopDoes) {
  // IPv4 is formatted by hand: every octet width, against the C library.
  uint32_t x = 7;
  for (int i = 0; i < 2000; ++i) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<uint16_t>(i));
    x = x * 1103515245u + 12345u;
    uint32_t ip = i < 256 ? static_cast<uint32_t>(i) * 0x01010101u : x;  // 0.0.0.0 .. 255.255.255.255, then random
    std::memcpy(&in.sin_addr, &ip, 4);
    char want[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, &in.sin_addr, want, sizeof want), nullptr);
    wsc_addr_t got;
    wsc::addr_from_sockaddr(reinterpret_cast<const sockaddr *>(&in), &got);
    ASSERT_STREQ(got.address, want);
    EXPECT_EQ(got.family, 4);
    EXPECT_EQ(got.port, i);
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_addr.s6_addr[15] = 1;
  wsc_addr_t got;
  wsc::addr_from_sockaddr(reinterpret_cast<const sockaddr *>(&in6), &got);
  EXPECT_STREQ(got.address, "::1");
  EXPECT_EQ(got.family, 6);
}
