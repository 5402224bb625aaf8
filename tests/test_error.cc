// Error codes (src/error.cc): one X-macro list gives the enum, names, messages and close codes.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "wsc/error.h"

namespace {

struct Entry {
  int value;
  const char *name;
  int close_code;
};

const Entry kAll[] = {
#define WSC_TEST_ENTRY_(name, value, close_code, message) {value, "WSC_" #name, close_code},
    WSC_ERRNO_MAP(WSC_TEST_ENTRY_)
#undef WSC_TEST_ENTRY_
};

}  // namespace

TEST(Error, EveryCodeIsNegativeUniqueAndDescribed) {
  std::set<int> values;
  std::set<std::string> messages;
  for (const Entry &e : kAll) {
    EXPECT_LT(e.value, 0) << e.name;
    EXPECT_TRUE(values.insert(e.value).second) << "duplicate value " << e.value;
    EXPECT_STREQ(wsc_err_name(e.value), e.name);
    ASSERT_NE(wsc_strerror(e.value), nullptr);
    EXPECT_NE(std::string(wsc_strerror(e.value)), "unknown error") << e.name;
    EXPECT_TRUE(messages.insert(wsc_strerror(e.value)).second) << "duplicate message for " << e.name;
    EXPECT_EQ(wsc_err_close_code(e.value), e.close_code);
  }
}

TEST(Error, ValuesAreNeverRenumbered) {
  // Published values: changing one breaks every compiled caller.
  EXPECT_EQ(WSC_EINVAL, -1);
  EXPECT_EQ(WSC_ENOMEM, -2);
  EXPECT_EQ(WSC_ENOBUFS, -3);
  EXPECT_EQ(WSC_ECLOSED, -10);
  EXPECT_EQ(WSC_ERR_INVALID_OPCODE, -100);
  EXPECT_EQ(WSC_ERR_INVALID_UTF8, -109);
  EXPECT_EQ(WSC_ERR_FRAME_TOO_BIG, -114);
}

TEST(Error, WsProtocolErrorsMapToTheirCloseCodes) {
  const std::map<int, int> expected = {
      {WSC_ERR_EXPECTED_FIN, 1002},
      {WSC_ERR_EXPECTED_MASK, 1002},
      {WSC_ERR_INVALID_CLOSE_CODE, 1002},
      {WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH, 1002},
      {WSC_ERR_INVALID_OPCODE, 1002},
      {WSC_ERR_INVALID_UTF8, 1007},
      {WSC_ERR_UNEXPECTED_MASK, 1002},
      {WSC_ERR_UNEXPECTED_RSV_1, 1002},
      {WSC_ERR_UNEXPECTED_RSV_2_3, 1002},
      {WSC_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH, 1002},
      {WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH, 1009},
      {WSC_ERR_UNEXPECTED_CONTINUATION, 1002},
      {WSC_ERR_EXPECTED_CONTINUATION, 1002},
      {WSC_ERR_TOO_MANY_FRAGMENTS, 1008},
      {WSC_ERR_FRAME_TOO_BIG, 1009},
  };
  for (const auto &kv : expected) EXPECT_EQ(wsc_err_close_code(kv.first), kv.second) << wsc_err_name(kv.first);
  EXPECT_EQ(wsc_err_close_code(WSC_EINVAL), 0);
  EXPECT_EQ(wsc_err_close_code(WSC_ENOMEM), 1011);
}

TEST(Error, UnknownCodesAndSuccess) {
  EXPECT_STREQ(wsc_strerror(0), "success");
  EXPECT_STREQ(wsc_err_name(0), "WSC_OK");
  EXPECT_STREQ(wsc_strerror(-99999), "unknown error");
  EXPECT_STREQ(wsc_err_name(-99999), "WSC_EUNKNOWN");
  EXPECT_STREQ(wsc_err_name(12345), "WSC_EUNKNOWN");
  EXPECT_EQ(wsc_err_close_code(-99999), 0);
}
