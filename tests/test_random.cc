// Masking keys from the CSPRNG pool (src/random.cc).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <thread>

#include "random.h"

namespace {

uint32_t key32() {
  uint8_t k[4];
  EXPECT_EQ(wsc::random_mask_key(k), 0);
  uint32_t v;
  std::memcpy(&v, k, 4);
  return v;
}

}  // namespace

TEST(Random, KeysAreNotRepeatedAcrossPoolRefills) {
  std::set<uint32_t> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(key32());  // ~8 refills of the pool
  // 2000 draws from 2^32 collide with probability below 0.05%; allow one to never flake.
  EXPECT_GE(seen.size(), 1999u);
}

TEST(Random, RandomBytesFillsLargeBuffers) {
  std::vector<uint8_t> buf(100000, 0);
  ASSERT_EQ(wsc::random_bytes(buf.data(), buf.size()), 0);
  size_t zeros = 0;
  for (uint8_t b : buf) zeros += b == 0;
  EXPECT_LT(zeros, 800u);  // ~390 expected
}

TEST(Random, ThreadsDrawDifferentKeys) {
  std::vector<uint32_t> a, b;
  std::thread t1([&] { for (int i = 0; i < 64; ++i) a.push_back(key32()); });
  std::thread t2([&] { for (int i = 0; i < 64; ++i) b.push_back(key32()); });
  t1.join();
  t2.join();
  std::set<uint32_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_GE(all.size(), 127u);
}

TEST(Random, AForkedChildDoesNotReuseTheParentsPool) {
  key32();  // the pool is now full of bytes that a fork would copy
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    uint32_t keys[16];
    for (auto &k : keys) {
      uint8_t b[4];
      if (wsc::random_mask_key(b) != 0) _exit(2);
      std::memcpy(&k, b, 4);
    }
    _exit(write(fds[1], keys, sizeof keys) == sizeof keys ? 0 : 1);
  }
  close(fds[1]);
  uint32_t child[16];
  ASSERT_EQ(read(fds[0], child, sizeof child), static_cast<ssize_t>(sizeof child));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::set<uint32_t> parent;
  for (int i = 0; i < 16; ++i) parent.insert(key32());
  int shared = 0;
  for (uint32_t k : child) shared += parent.count(k) ? 1 : 0;
  EXPECT_EQ(shared, 0) << "the child drew the same keys as the parent";
}
