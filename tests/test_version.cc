// Version macros and run-time query (src/version.cc).
#include <gtest/gtest.h>

#include <string>

#include "wsc/version.h"

TEST(Version, MacrosMatchTheCMakeProjectVersion) { EXPECT_STREQ(WSC_VERSION_STRING, WSC_EXPECTED_VERSION); }

TEST(Version, RuntimeMatchesHeaders) {
  EXPECT_EQ(wsc_version(), static_cast<uint32_t>(WSC_VERSION_NUMBER));
  EXPECT_STREQ(wsc_version_string(), WSC_VERSION_STRING);
  EXPECT_EQ(WSC_VERSION_NUMBER, WSC_VERSION_MAJOR * 10000 + WSC_VERSION_MINOR * 100 + WSC_VERSION_PATCH);
  std::string expected = std::to_string(WSC_VERSION_MAJOR) + "." + std::to_string(WSC_VERSION_MINOR) + "." +
                         std::to_string(WSC_VERSION_PATCH);
  EXPECT_EQ(expected, wsc_version_string());
}
