// The C API of the parser (wsc/parser.h) over the receiver.
#include <new>

#include "options.h"
#include "receiver.h"
#include "wsc/error.h"
#include "wsc/parser.h"

struct wsc_parser_s {
  wsc_parser_s(const wsc::ReceiverConfig &config, wsc_parser_cb callback, void *data)
      : cfg(config), rx(cfg, this), cb(callback), user_data(data) {
    cfg.sink = &wsc_parser_s::sink;
  }

  static void sink(void *ctx, const wsc_parser_event_t &ev) {
    auto *self = static_cast<wsc_parser_s *>(ctx);
    if (!self->free_pending) self->cb(self, &ev, self->user_data);
  }

  wsc::ReceiverConfig cfg;  // the receiver's, kept here
  wsc::Receiver rx;
  wsc_parser_cb cb;
  void *user_data;
  bool free_pending = false;
};

namespace {

constexpr uint32_t kParserFlags = WSC_PARSER_NO_ASSEMBLE | WSC_PARSER_SKIP_UTF8 | WSC_PARSER_ALLOW_RSV1;

}  // namespace

int wsc_parser_options_init(wsc_parser_options_t *opts, size_t size) {
  static const wsc_parser_options_t defaults = WSC_PARSER_OPTIONS_INIT;
  return wsc::options_init(opts, size, defaults);
}

int wsc_parser_new(wsc_parser_t **out, const wsc_parser_options_t *opts, wsc_parser_cb cb, void *user_data) {
  if (out == nullptr) return WSC_EINVAL;
  *out = nullptr;
  wsc_parser_options_t o = WSC_PARSER_OPTIONS_INIT;
  if (cb == nullptr || wsc::options_read(&o, opts) != 0) return WSC_EINVAL;
  if (!wsc::role_valid(o.role) || (o.flags & ~kParserFlags) != 0) return WSC_EINVAL;
  wsc::ReceiverConfig cfg;
  cfg.role = static_cast<wsc_role_t>(o.role);
  cfg.assemble = (o.flags & WSC_PARSER_NO_ASSEMBLE) == 0;
  cfg.validate_utf8 = (o.flags & WSC_PARSER_SKIP_UTF8) == 0;
  cfg.allow_rsv1 = (o.flags & WSC_PARSER_ALLOW_RSV1) != 0;
  cfg.max_fragments = o.max_fragments;
  cfg.max_message = o.max_message_size;
  cfg.max_frame = o.max_frame_size;
  auto *p = new (std::nothrow) wsc_parser_s(cfg, cb, user_data);
  if (p == nullptr) return WSC_ENOMEM;
  *out = p;
  return 0;
}

int wsc_parser_feed(wsc_parser_t *parser, size_t *consumed, void *data, size_t len) {
  if (consumed) *consumed = 0;
  if (parser == nullptr || (data == nullptr && len > 0)) return WSC_EINVAL;
  if (parser->rx.in_feed()) return WSC_EBUSY;
  int rc = parser->rx.feed(static_cast<uint8_t *>(data), len, consumed);
  if (parser->free_pending) delete parser;
  return rc;
}

void wsc_parser_pause(wsc_parser_t *parser) {
  if (parser) parser->rx.pause();
}

void wsc_parser_resume(wsc_parser_t *parser) {
  if (parser && !parser->free_pending) parser->rx.resume();
}

int wsc_parser_is_paused(const wsc_parser_t *parser) { return parser && parser->rx.paused() ? 1 : 0; }

void wsc_parser_set_rsv1(wsc_parser_t *parser, int allowed) {
  if (parser) parser->rx.set_allow_rsv1(allowed != 0);
}

size_t wsc_parser_buffered(const wsc_parser_t *parser) { return parser ? parser->rx.buffered() : 0; }

void wsc_parser_free(wsc_parser_t *parser) {
  if (parser == nullptr) return;
  if (parser->rx.in_feed()) {  // inside a callback: stop here, free when the feed returns
    parser->free_pending = true;
    parser->rx.pause();
    return;
  }
  delete parser;
}
