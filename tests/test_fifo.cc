// The ring-buffer queue (src/fifo.h): order across wrap-around and growth, moves of owning
// elements, and no memory held once empty.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fifo.h"

TEST(Fifo, KeepsOrderAcrossWrapAndGrowth) {
  wsc::Fifo<int> q;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 1; ++i) ASSERT_TRUE(q.emplace_back(next_in++));
    for (int i = 0; i < round % 5 && !q.empty(); ++i) {
      ASSERT_EQ(q.front(), next_out++);
      q.pop_front();
    }
    ASSERT_EQ(q.size(), static_cast<size_t>(next_in - next_out));
    for (size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], next_out + static_cast<int>(i));
  }
}

TEST(Fifo, MovesOwningElementsAndFreesThem) {
  wsc::Fifo<std::unique_ptr<std::string>> q;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(q.emplace_back(std::make_unique<std::string>(std::to_string(i))));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(*q.front(), std::to_string(i));
    q.pop_front();
  }
  EXPECT_EQ(*q.back(), "19");
  wsc::Fifo<std::unique_ptr<std::string>> other;
  other.swap(q);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(other.size(), 10u);
  EXPECT_EQ(*other.front(), "10");
}  // the rest is destroyed with the queue (LeakSanitizer checks)

TEST(Fifo, EmptyAfterDrainAndClear) {
  wsc::Fifo<std::string> q;
  q.emplace_back("a");
  q.pop_front();
  EXPECT_TRUE(q.empty());
  q.emplace_back("b");
  q.emplace_back("c");
  q.clear();
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(q.emplace_back("d"));
  EXPECT_EQ(q.front(), "d");
}
