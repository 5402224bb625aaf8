/* Uses the installed library: encodes a frame and parses it back. */
#include <stdio.h>
#include <string.h>
#include <wsc/wsc.h>

static int got;

static void on_event(wsc_parser_t *p, const wsc_parser_event_t *ev, void *ud) {
  (void)p;
  (void)ud;
  if (ev->type == WSC_PARSER_MESSAGE && ev->len == 5 && memcmp(ev->data, "hello", 5) == 0) got = 1;
}

int main(void) {
  uint8_t buf[32];
  size_t n;
  wsc_frame_t f = {WSC_OP_TEXT, WSC_FRAME_FIN | WSC_FRAME_MASK, NULL, (const uint8_t *)"hello", 5};
  wsc_parser_t *p;
  if (wsc_version() != WSC_VERSION_NUMBER) return 1;
  if (wsc_frame_encode(&n, buf, sizeof buf, &f) != 0) return 2;
  if (wsc_parser_new(&p, NULL, on_event, NULL) != 0) return 3;
  if (wsc_parser_feed(p, NULL, buf, n) != 0) return 4;
  wsc_parser_free(p);
  printf("consumer: wsc %s %s\n", wsc_version_string(), got ? "ok" : "FAILED");
  return got ? 0 : 5;
}
