// The slot table: ids unique and never reused, lookups that reject stale ids, slots reused, and
// walks that survive entries added and removed meanwhile.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "slots.h"

namespace {
struct Item {
  uint64_t id = 0;
};
}  // namespace

TEST(SlotTable, IdsAreUniqueAndStaleIdsFindNothing) {
  wsc::SlotTable<Item> t;
  Item a, b;
  ASSERT_TRUE(t.add(&a));
  ASSERT_TRUE(t.add(&b));
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(t.find(a.id), &a);
  EXPECT_EQ(t.find(b.id), &b);
  uint64_t old = a.id;
  t.remove(&a);
  EXPECT_EQ(t.find(old), nullptr);
  Item c;
  ASSERT_TRUE(t.add(&c));  // takes a's slot...
  EXPECT_EQ(c.id & wsc::SlotTable<Item>::kSlotMask, old & wsc::SlotTable<Item>::kSlotMask);
  EXPECT_NE(c.id, old);  // ...but not its id
  EXPECT_EQ(t.find(old), nullptr);
  EXPECT_EQ(t.find(c.id), &c);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.find(0), nullptr);
  EXPECT_EQ(t.find(~uint64_t{0}), nullptr);  // a slot beyond the table
}

TEST(SlotTable, TenThousandEntriesAcrossBlocksAndChurn) {
  wsc::SlotTable<Item> t;
  std::vector<Item> items(10000);
  std::set<uint64_t> ids;
  for (auto &it : items) {
    ASSERT_TRUE(t.add(&it));
    ids.insert(it.id);
  }
  EXPECT_EQ(ids.size(), items.size());
  for (size_t i = 0; i < items.size(); i += 2) t.remove(&items[i]);
  EXPECT_EQ(t.size(), 5000u);
  for (size_t i = 0; i < items.size(); ++i)
    EXPECT_EQ(t.find(items[i].id), i % 2 ? &items[i] : nullptr) << i;
  for (size_t i = 0; i < items.size(); i += 2) ASSERT_TRUE(t.add(&items[i]));  // reuses the freed slots
  EXPECT_EQ(t.slots(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(t.find(items[i].id), &items[i]);
    if (i % 2 == 0) {
      EXPECT_EQ(ids.count(items[i].id), 0u) << "an id was given twice";
    }
  }
}

TEST(SlotTable, AWalkSurvivesEntriesRemovedAndAddedDuringIt) {
  wsc::SlotTable<Item> t;
  std::vector<Item> items(5000), more(5000);
  for (auto &it : items) ASSERT_TRUE(t.add(&it));
  std::set<const Item *> seen;
  for (size_t i = 0; i < t.slots(); ++i) {
    Item *it = t.at(i);
    if (it == nullptr) continue;
    EXPECT_TRUE(seen.insert(it).second) << "seen twice";
    if (seen.size() == 1) {  // at the first entry: remove every odd item, then add 5000 more
      for (size_t j = 1; j < items.size(); j += 2) t.remove(&items[j]);
      for (auto &m : more) ASSERT_TRUE(t.add(&m));  // into the freed slots, then new blocks
    }
  }
  for (size_t j = 0; j < items.size(); ++j) EXPECT_EQ(seen.count(&items[j]), j % 2 ? 0u : 1u) << j;
  for (const auto &m : more) EXPECT_EQ(seen.count(&m), 1u);
  EXPECT_EQ(t.size(), 7500u);
}
