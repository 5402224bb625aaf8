// The send queue (src/writeq.h): owned and shared pieces, gathering, partial consumption, and
// no appends into pieces that are being written.
#include <gtest/gtest.h>

#include "support.h"
#include "writeq.h"

using namespace wsc_test;

namespace {

std::string drain(wsc::WriteQueue &q, size_t step, wsc::BufferPool *pool = nullptr) {
  std::string out;
  while (!q.empty()) {
    wsc_buf_t bufs[4];
    size_t total;
    size_t n = q.gather(bufs, 4, &total);
    std::string chunk;
    for (size_t i = 0; i < n; ++i) chunk.append(reinterpret_cast<const char *>(bufs[i].base), bufs[i].len);
    size_t take = std::min(step, chunk.size());
    out += chunk.substr(0, take);
    q.consume(take, pool);
  }
  return out;
}

}  // namespace

TEST(WriteQueue, OwnedAndSharedPiecesComeOutInOrderWhateverTheWriteSizes) {
  for (size_t step : {1u, 3u, 7u, 1000u}) {
    wsc::SharedFrame *f = wsc::SharedFrame::make(5);
    std::memcpy(f->data, "SHARE", 5);
    wsc::WriteQueue q;
    ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>("ab"), 2));
    ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>("cd"), 2));  // joins the previous piece
    ASSERT_TRUE(q.append_shared(f));
    ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>("ef"), 2));
    ASSERT_TRUE(q.append_shared(f));
    EXPECT_EQ(f->refs, 3u);
    EXPECT_EQ(q.bytes(), 16u);
    EXPECT_EQ(drain(q, step), "abcdSHAREefSHARE") << step;
    EXPECT_EQ(f->refs, 1u) << "the queue let go of the shared frame";
    f->unref();
  }
}

TEST(WriteQueue, AppendsAfterAPartialWriteFollowTheUnwrittenRest) {
  // The kernel took part of the first piece; what is sent next goes behind the rest of it.
  wsc::WriteQueue q;
  ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>("first"), 5));
  q.consume(2);
  std::string big(100000, 'x');  // grows (moves) the piece that was partly written
  ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>(big.data()), big.size()));
  EXPECT_EQ(q.bytes(), 3 + big.size());
  EXPECT_EQ(drain(q, 4096), "rst" + big);
}

TEST(WriteQueue, AFrameBuiltInPlaceTakesOnlyWhatItCommits) {
  // The sender reserves room for the largest header and commits what the frame took.
  for (size_t step : {1u, 5u, 1000u}) {
    wsc::SharedFrame *f = wsc::SharedFrame::make(2);
    std::memcpy(f->data, "SH", 2);
    wsc::WriteQueue q;
    ASSERT_TRUE(q.append_shared(f));  // a reservation after a shared frame opens a piece of its own
    uint8_t *p = q.reserve(14 + 3);
    ASSERT_NE(p, nullptr);
    std::memcpy(p, "hdrabc", 6);
    q.commit(6);
    ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>("next"), 4));
    p = q.reserve(100000);  // grows the piece; what it holds stays
    ASSERT_NE(p, nullptr);
    p[0] = '!';
    q.commit(1);
    EXPECT_EQ(q.bytes(), 13u);
    EXPECT_EQ(drain(q, step), "SHhdrabcnext!") << step;
    f->unref();
  }
}

TEST(WriteQueue, SharedFramesOutliveNoQueue) {
  wsc::SharedFrame *f = wsc::SharedFrame::make(3);
  {
    wsc::WriteQueue a, b;
    a.append_shared(f);
    b.append_shared(f);
    f->unref();  // the builder's reference: the queues keep it alive
    EXPECT_EQ(f->refs, 2u);
  }  // both queues cleared: freed (LeakSanitizer checks)
}

// With a pool: small frames then a large one in the same piece, round after round; the bytes
// the queue reports are exactly those it hands out (a reused buffer must come back empty).
TEST(WriteQueue, PooledPiecesKeepExactAccounting) {
  wsc::BufferPool pool;
  wsc::WriteQueue q;
  std::string big(70000, 'b');
  const uint8_t key[4] = {1, 2, 3, 4};
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>("hdr"), 3, &pool));
    ASSERT_TRUE(q.append_masked(reinterpret_cast<const uint8_t *>(big.data()), big.size(), key, &pool));
    EXPECT_EQ(q.bytes(), 3 + big.size()) << round;
    std::string out = drain(q, 65536, &pool);
    ASSERT_EQ(out.size(), 3 + big.size()) << round;
    EXPECT_EQ(out.substr(0, 3), "hdr");
    for (size_t i = 0; i < big.size(); ++i)
      ASSERT_EQ(static_cast<uint8_t>(out[3 + i]), static_cast<uint8_t>('b' ^ key[i % 4])) << i;
    EXPECT_TRUE(q.empty());
  }
  EXPECT_GT(pool.bytes(), 0u) << "the large buffer went back to the pool";
}

TEST(WriteQueue, BorrowedBytesAreReferencedNotCopied) {
  for (size_t step : {1u, 6u, 1000u}) {
    std::string lent = "LENT";
    wsc::WriteQueue q;
    ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>("h1"), 2));
    ASSERT_TRUE(q.append_borrowed(reinterpret_cast<const uint8_t *>(lent.data()), lent.size()));
    ASSERT_TRUE(q.append_borrowed(reinterpret_cast<const uint8_t *>(lent.data()), 0)) << "nothing to lend";
    ASSERT_TRUE(q.append(reinterpret_cast<const uint8_t *>("h2"), 2));  // a new piece, not into the lent bytes
    EXPECT_EQ(q.bytes(), 8u);
    wsc_buf_t bufs[4];
    size_t total;
    ASSERT_EQ(q.gather(bufs, 4, &total), 3u);
    EXPECT_EQ(bufs[1].base, reinterpret_cast<const uint8_t *>(lent.data())) << "the caller's memory itself";
    lent[0] = 'l';  // so the queue reads the caller's bytes when it writes them
    EXPECT_EQ(drain(q, step), "h1lENTh2") << step;
  }
}
