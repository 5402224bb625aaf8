// Encoding one frame (src/frame.cc, src/framing.h).
#include <gtest/gtest.h>

#include "framing.h"
#include "support.h"

using namespace wsc_test;

namespace {

wsc_frame_t make(uint32_t opcode, uint32_t flags, const Bytes &payload, const uint8_t *key = nullptr) {
  wsc_frame_t f{};
  f.opcode = opcode;
  f.flags = flags;
  f.mask_key = key;
  f.payload = payload.empty() ? nullptr : payload.data();
  f.payload_len = payload.size();
  return f;
}

Bytes encode(const wsc_frame_t &f) {
  size_t need = 0;
  EXPECT_EQ(wsc_frame_encode(&need, nullptr, 0, &f), 0);
  Bytes out(need);
  size_t written = 0;
  EXPECT_EQ(wsc_frame_encode(&written, out.data(), out.size(), &f), 0);
  EXPECT_EQ(written, need);
  return out;
}

}  // namespace

TEST(Frame, RfcExamples) {
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  EXPECT_EQ(hex(encode(make(WSC_OP_TEXT, WSC_FRAME_FIN, bytes("Hello")))), "810548656c6c6f");
  EXPECT_EQ(hex(encode(make(WSC_OP_TEXT, WSC_FRAME_FIN | WSC_FRAME_MASK, bytes("Hello"), key))),
            "818537fa213d7f9f4d5158");
  EXPECT_EQ(hex(encode(make(WSC_OP_TEXT, 0, bytes("Hel")))), "010348656c");
  EXPECT_EQ(hex(encode(make(WSC_OP_CONTINUATION, WSC_FRAME_FIN, bytes("lo")))), "80026c6f");
  EXPECT_EQ(hex(encode(make(WSC_OP_PONG, WSC_FRAME_FIN | WSC_FRAME_MASK, bytes("Hello"), key))),
            "8a8537fa213d7f9f4d5158");
  Bytes f256 = encode(make(WSC_OP_BINARY, WSC_FRAME_FIN, Bytes(256, 1)));
  EXPECT_EQ(hex(Bytes(f256.begin(), f256.begin() + 4)), "827e0100");
  Bytes f64k = encode(make(WSC_OP_BINARY, WSC_FRAME_FIN, Bytes(65536, 1)));
  EXPECT_EQ(hex(Bytes(f64k.begin(), f64k.begin() + 10)), "827f0000000000010000");
  EXPECT_EQ(f64k.size(), 65546u);
}

TEST(Frame, LengthFormsAtTheirBoundaries) {
  struct {
    size_t len;
    size_t header;
  } cases[] = {{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {1 << 20, 10}};
  for (const auto &c : cases) {
    EXPECT_EQ(wsc::header_size(c.len, false), c.header);
    EXPECT_EQ(wsc::header_size(c.len, true), c.header + 4);
    Bytes f = encode(make(WSC_OP_BINARY, WSC_FRAME_FIN, Bytes(c.len, 9)));
    EXPECT_EQ(f.size(), c.len + c.header);
  }
}

TEST(Frame, FlagsAndRsvBits) {
  EXPECT_EQ(hex(encode(make(WSC_OP_TEXT, WSC_FRAME_FIN | WSC_FRAME_RSV1, {}))), "c100");
  EXPECT_EQ(hex(encode(make(WSC_OP_TEXT, WSC_FRAME_RSV2 | WSC_FRAME_RSV3, {}))), "3100");
  EXPECT_EQ(hex(encode(make(WSC_OP_CLOSE, WSC_FRAME_FIN, {0x03, 0xe8}))), "880203e8");
}

TEST(Frame, RandomKeyWhenNoneIsGiven) {
  Bytes payload(64, 0);
  Bytes a = encode(make(WSC_OP_BINARY, WSC_FRAME_FIN | WSC_FRAME_MASK, payload));
  Bytes b = encode(make(WSC_OP_BINARY, WSC_FRAME_FIN | WSC_FRAME_MASK, payload));
  ASSERT_EQ(a.size(), 2u + 4 + 64);
  EXPECT_EQ(a[1], 0x80 | 64);
  Bytes ka(a.begin() + 2, a.begin() + 6), kb(b.begin() + 2, b.begin() + 6);
  EXPECT_NE(ka, kb);
  for (size_t i = 0; i < 64; ++i) ASSERT_EQ(a[6 + i], ka[i % 4]);  // zeros masked are the key
}

TEST(Frame, Errors) {
  Bytes p(126, 0);
  size_t n = 99;
  wsc_frame_t f = make(3, WSC_FRAME_FIN, {});
  EXPECT_EQ(wsc_frame_encode(&n, nullptr, 0, &f), WSC_EINVAL);
  f = make(WSC_OP_TEXT, 0x40, {});
  EXPECT_EQ(wsc_frame_encode(&n, nullptr, 0, &f), WSC_EINVAL);
  f = make(WSC_OP_PING, 0, {});
  EXPECT_EQ(wsc_frame_encode(&n, nullptr, 0, &f), WSC_EINVAL) << "control frames need FIN";
  f = make(WSC_OP_PING, WSC_FRAME_FIN, p);
  EXPECT_EQ(wsc_frame_encode(&n, nullptr, 0, &f), WSC_EMSGSIZE);
  f = make(WSC_OP_TEXT, WSC_FRAME_FIN, {});
  f.payload_len = 3;  // payload NULL
  EXPECT_EQ(wsc_frame_encode(&n, nullptr, 0, &f), WSC_EINVAL);
  EXPECT_EQ(wsc_frame_encode(nullptr, nullptr, 0, &f), WSC_EINVAL);
  EXPECT_EQ(wsc_frame_encode(&n, nullptr, 0, nullptr), WSC_EINVAL);
  Bytes hello = bytes("Hello");
  f = make(WSC_OP_TEXT, WSC_FRAME_FIN, hello);
  uint8_t small[6];
  EXPECT_EQ(wsc_frame_encode(&n, small, sizeof small, &f), WSC_ENOBUFS);
  EXPECT_EQ(n, 7u) << "the size needed is reported with ENOBUFS";
}
