// The parser's C API (src/parser.cc): options, callbacks, pause, re-entrancy, freeing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support.h"

using namespace wsc_test;

namespace {

struct Log {
  std::vector<std::string> events;
  std::function<void(wsc_parser_t *, const wsc_parser_event_t *)> hook;
};

void on_event(wsc_parser_t *p, const wsc_parser_event_t *ev, void *ud) {
  auto *log = static_cast<Log *>(ud);
  log->events.push_back(describe(*ev));
  if (log->hook) log->hook(p, ev);
}

Bytes masked(uint8_t b0, const std::string &payload) {
  static const uint8_t key[4] = {9, 8, 7, 6};
  wsc_frame_t f{};
  f.opcode = b0 & 0x0F;
  f.flags = WSC_FRAME_MASK | ((b0 & 0x80) ? WSC_FRAME_FIN : 0u) | ((b0 & 0x40) ? WSC_FRAME_RSV1 : 0u);
  f.mask_key = key;
  f.payload = reinterpret_cast<const uint8_t *>(payload.data());
  f.payload_len = payload.size();
  size_t n;
  EXPECT_EQ(wsc_frame_encode(&n, nullptr, 0, &f), 0);
  Bytes out(n);
  EXPECT_EQ(wsc_frame_encode(&n, out.data(), n, &f), 0);
  return out;
}

}  // namespace

TEST(Parser, OptionsInitAndValidation) {
  wsc_parser_options_t o;
  ASSERT_EQ(wsc_parser_options_init(&o, sizeof o), 0);
  EXPECT_EQ(o.size, sizeof o);
  EXPECT_EQ(o.role, (uint32_t)WSC_ROLE_SERVER);
  EXPECT_EQ(o.max_message_size, 100u * 1024 * 1024);
  EXPECT_EQ(o.max_fragments, WSC_DEFAULT_MAX_FRAGMENTS);
  EXPECT_EQ(wsc_parser_options_init(&o, 4), WSC_EINVAL);
  EXPECT_EQ(wsc_parser_options_init(nullptr, sizeof o), WSC_EINVAL);

  Log log;
  wsc_parser_t *p = reinterpret_cast<wsc_parser_t *>(0x1);
  EXPECT_EQ(wsc_parser_new(&p, nullptr, nullptr, &log), WSC_EINVAL);
  EXPECT_EQ(p, nullptr) << "the out pointer is cleared on failure";
  EXPECT_EQ(wsc_parser_new(nullptr, nullptr, on_event, &log), WSC_EINVAL);
  wsc_parser_options_t bad = WSC_PARSER_OPTIONS_INIT;
  bad.role = 7;
  EXPECT_EQ(wsc_parser_new(&p, &bad, on_event, &log), WSC_EINVAL);
  bad = wsc_parser_options_t WSC_PARSER_OPTIONS_INIT;
  bad.flags = 0x100;
  EXPECT_EQ(wsc_parser_new(&p, &bad, on_event, &log), WSC_EINVAL);
  bad = wsc_parser_options_t WSC_PARSER_OPTIONS_INIT;
  bad.size = 8;
  EXPECT_EQ(wsc_parser_new(&p, &bad, on_event, &log), WSC_EINVAL);

  // A caller built against a newer, larger struct is accepted.
  struct {
    wsc_parser_options_t base;
    uint64_t future_field;
  } newer = {WSC_PARSER_OPTIONS_INIT, 42};
  newer.base.size = sizeof newer;
  ASSERT_EQ(wsc_parser_new(&p, &newer.base, on_event, &log), 0);
  wsc_parser_free(p);
  ASSERT_EQ(wsc_parser_new(&p, nullptr, on_event, &log), 0);  // defaults
  wsc_parser_free(p);
  wsc_parser_free(nullptr);
}

TEST(Parser, ReportsMessagesAndOptionsTakeEffect) {
  Log log;
  wsc_parser_options_t o = WSC_PARSER_OPTIONS_INIT;
  o.flags = WSC_PARSER_NO_ASSEMBLE | WSC_PARSER_SKIP_UTF8;
  o.max_message_size = 8;
  wsc_parser_t *p;
  ASSERT_EQ(wsc_parser_new(&p, &o, on_event, &log), 0);
  Bytes data = masked(0x01, "\xff\xfe");
  Bytes more = masked(0x80, "ok");
  data.insert(data.end(), more.begin(), more.end());
  Bytes big = masked(0x82, "123456789");
  data.insert(data.end(), big.begin(), big.end());
  size_t used = 0;
  EXPECT_EQ(wsc_parser_feed(p, &used, data.data(), data.size()), WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH);
  EXPECT_EQ(log.events, (std::vector<std::string>{"fragment text first more fffe", "fragment text cont fin 6f6b",
                                                  "error WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH 1009"}));
  EXPECT_EQ(used, data.size() - 9) << "stopped right after the header that broke the limit";
  wsc_parser_free(p);
}

TEST(Parser, ErrorEventCarriesCodeCloseCodeAndMessage) {
  wsc_parser_t *p;
  std::string message;
  Log log;
  log.hook = [&](wsc_parser_t *, const wsc_parser_event_t *ev) {
    if (ev->type == WSC_PARSER_ERROR) message = ev->message;
  };
  ASSERT_EQ(wsc_parser_new(&p, nullptr, on_event, &log), 0);
  uint8_t frame[] = {0x85, 0x80, 0, 0, 0, 0};
  EXPECT_EQ(wsc_parser_feed(p, nullptr, frame, sizeof frame), WSC_ERR_INVALID_OPCODE);
  EXPECT_EQ(message, "invalid opcode 5");
  EXPECT_EQ(log.events.back(), "error WSC_ERR_INVALID_OPCODE 1002");
  wsc_parser_free(p);
}

TEST(Parser, FeedInsideTheCallbackIsRefused) {
  wsc_parser_t *p;
  Log log;
  int nested_rc = 0;
  log.hook = [&](wsc_parser_t *parser, const wsc_parser_event_t *) {
    uint8_t b[2] = {0x81, 0x80};
    nested_rc = wsc_parser_feed(parser, nullptr, b, 2);
  };
  ASSERT_EQ(wsc_parser_new(&p, nullptr, on_event, &log), 0);
  Bytes data = masked(0x81, "x");
  EXPECT_EQ(wsc_parser_feed(p, nullptr, data.data(), data.size()), 0);
  EXPECT_EQ(nested_rc, WSC_EBUSY);
  wsc_parser_free(p);
}

TEST(Parser, FreeInsideTheCallbackStopsDeliveryAndFreesOnReturn) {
  wsc_parser_t *p;
  Log log;
  log.hook = [&](wsc_parser_t *parser, const wsc_parser_event_t *) { wsc_parser_free(parser); };
  ASSERT_EQ(wsc_parser_new(&p, nullptr, on_event, &log), 0);
  Bytes data = masked(0x81, "one");
  Bytes two = masked(0x81, "two");
  data.insert(data.end(), two.begin(), two.end());
  size_t used = 0;
  EXPECT_EQ(wsc_parser_feed(p, &used, data.data(), data.size()), 0);  // p is freed now (ASan checks)
  EXPECT_EQ(log.events.size(), 1u);
  EXPECT_EQ(used, data.size() / 2);
}

TEST(Parser, PauseResumeAndBuffered) {
  wsc_parser_t *p;
  Log log;
  log.hook = [&](wsc_parser_t *parser, const wsc_parser_event_t *) { wsc_parser_pause(parser); };
  ASSERT_EQ(wsc_parser_new(&p, nullptr, on_event, &log), 0);
  Bytes data = masked(0x89, "a");
  Bytes two = masked(0x8a, "b");
  data.insert(data.end(), two.begin(), two.end());
  size_t used;
  ASSERT_EQ(wsc_parser_feed(p, &used, data.data(), data.size()), 0);
  EXPECT_TRUE(wsc_parser_is_paused(p));
  EXPECT_EQ(log.events.size(), 1u);
  wsc_parser_resume(p);
  EXPECT_FALSE(wsc_parser_is_paused(p));
  log.hook = nullptr;
  size_t off = used;
  ASSERT_EQ(wsc_parser_feed(p, &used, data.data() + off, 1), 0);  // a partial header
  EXPECT_EQ(used, 1u);
  EXPECT_EQ(wsc_parser_buffered(p), 1u) << "header bytes held";
  ASSERT_EQ(wsc_parser_feed(p, &used, data.data() + off + 1, data.size() - off - 1), 0);
  EXPECT_EQ(log.events, (std::vector<std::string>{"ping 61", "pong 62"}));
  EXPECT_EQ(wsc_parser_buffered(p), 0u);
  wsc_parser_free(p);
}

TEST(Parser, Rsv1CanBeAllowedOnceNegotiated) {
  wsc_parser_t *p;
  Log log;
  ASSERT_EQ(wsc_parser_new(&p, nullptr, on_event, &log), 0);
  wsc_parser_set_rsv1(p, 1);
  Bytes data = masked(0xc2, "z");
  ASSERT_EQ(wsc_parser_feed(p, nullptr, data.data(), data.size()), 0);
  wsc_parser_set_rsv1(p, 0);
  data = masked(0xc2, "z");
  EXPECT_EQ(wsc_parser_feed(p, nullptr, data.data(), data.size()), WSC_ERR_UNEXPECTED_RSV_1);
  EXPECT_EQ(log.events, (std::vector<std::string>{"message binary rsv1 7a", "error WSC_ERR_UNEXPECTED_RSV_1 1002"}));
  wsc_parser_free(p);
}

TEST(Parser, BadArguments) {
  wsc_parser_t *p;
  Log log;
  ASSERT_EQ(wsc_parser_new(&p, nullptr, on_event, &log), 0);
  size_t used = 5;
  EXPECT_EQ(wsc_parser_feed(p, &used, nullptr, 3), WSC_EINVAL);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(wsc_parser_feed(p, &used, nullptr, 0), 0);
  EXPECT_EQ(wsc_parser_feed(nullptr, &used, nullptr, 0), WSC_EINVAL);
  wsc_parser_free(p);
  EXPECT_EQ(wsc_parser_buffered(nullptr), 0u);
  EXPECT_EQ(wsc_parser_is_paused(nullptr), 0);
}
