// The slab: objects are distinct, aligned and reused; blocks fill and empty; LeakSanitizer (in
// the sanitizer build) checks that emptied blocks go back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "slab.h"

TEST(Slab, ObjectsAreDistinctAlignedAndWritable) {
  wsc::Slab slab(376);
  std::vector<void *> got;
  for (size_t i = 0; i < 3 * slab.capacity() + 5; ++i) {  // several blocks
    void *p = slab.alloc();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 8, 0u);
    std::memset(p, static_cast<int>(i), 376);
    got.push_back(p);
  }
  std::vector<void *> sorted = got;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 1; i < sorted.size(); ++i)
    EXPECT_GE(static_cast<char *>(sorted[i]) - static_cast<char *>(sorted[i - 1]), 376) << "objects overlap";
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(static_cast<unsigned char *>(got[i])[375], static_cast<unsigned char>(i)) << "an object was overwritten";
  for (void *p : got) wsc::Slab::free_any(p);
}

TEST(Slab, FreedObjectsAreReusedFirst) {
  wsc::Slab slab(100);
  void *a = slab.alloc(), *b = slab.alloc();
  wsc::Slab::free_any(a);
  EXPECT_EQ(slab.alloc(), a);
  wsc::Slab::free_any(a);
  wsc::Slab::free_any(b);
  wsc::Slab::free_any(nullptr);  // does nothing
}

TEST(Slab, ChurnAcrossManyBlocksInAnyOrder) {
  wsc::Slab slab(200);
  std::vector<void *> live;
  uint32_t r = 12345;
  for (int round = 0; round < 20000; ++round) {
    r = r * 1103515245 + 12345;
    if (live.empty() || (r >> 16) % 3 != 0) {
      void *p = slab.alloc();
      ASSERT_NE(p, nullptr);
      live.push_back(p);
    } else {
      size_t i = (r >> 8) % live.size();
      wsc::Slab::free_any(live[i]);
      live[i] = live.back();
      live.pop_back();
    }
  }
  std::set<void *> unique(live.begin(), live.end());
  EXPECT_EQ(unique.size(), live.size());
  for (void *p : live) wsc::Slab::free_any(p);
}
