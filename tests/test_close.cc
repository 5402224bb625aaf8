// Close codes (src/close.cc).
#include <gtest/gtest.h>

#include "wsc/close.h"

TEST(Close, WireValidityOverTheWholeRange) {
  for (uint32_t code = 0; code <= 70000; ++code) {
    bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    EXPECT_EQ(wsc_close_code_valid(code), expected ? 1 : 0) << code;
  }
}

TEST(Close, NamesOfTheRegisteredCodes) {
  EXPECT_EQ(WSC_CLOSE_NORMAL, 1000);
  EXPECT_EQ(WSC_CLOSE_TLS_HANDSHAKE_FAILED, 1015);
  EXPECT_STREQ(wsc_close_code_name(1000), "NORMAL");
  EXPECT_STREQ(wsc_close_code_name(1001), "GOING_AWAY");
  EXPECT_STREQ(wsc_close_code_name(1002), "PROTOCOL_ERROR");
  EXPECT_STREQ(wsc_close_code_name(1003), "UNSUPPORTED_DATA");
  EXPECT_STREQ(wsc_close_code_name(1004), "RESERVED");
  EXPECT_STREQ(wsc_close_code_name(1005), "NO_STATUS");
  EXPECT_STREQ(wsc_close_code_name(1006), "ABNORMAL");
  EXPECT_STREQ(wsc_close_code_name(1007), "INVALID_DATA");
  EXPECT_STREQ(wsc_close_code_name(1008), "POLICY_VIOLATION");
  EXPECT_STREQ(wsc_close_code_name(1009), "MESSAGE_TOO_BIG");
  EXPECT_STREQ(wsc_close_code_name(1010), "EXTENSION_REQUIRED");
  EXPECT_STREQ(wsc_close_code_name(1011), "INTERNAL_SERVER_ERROR");
  EXPECT_STREQ(wsc_close_code_name(1012), "SERVICE_RESTART");
  EXPECT_STREQ(wsc_close_code_name(1013), "TRY_AGAIN_LATER");
  EXPECT_STREQ(wsc_close_code_name(1014), "BAD_GATEWAY");
  EXPECT_STREQ(wsc_close_code_name(1015), "TLS_HANDSHAKE_FAILED");
  EXPECT_EQ(wsc_close_code_name(999), nullptr);
  EXPECT_EQ(wsc_close_code_name(1016), nullptr);
  EXPECT_EQ(wsc_close_code_name(4000), nullptr);
}
