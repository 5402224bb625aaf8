// Frame engine throughput: parsing (server: masked frames, unmasked in place; client: unmasked,
// delivered in place), masking, UTF-8 validation and the sender, beside memcpy on the same
// machine. Run: build/bench/bench_frame (add --benchmark_format=json for machine output).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "mask.h"
#include "receiver.h"
#include "utf8.h"
#include "wsc/wsc.h"

namespace {

constexpr size_t kStreamBytes = 4u << 20;  // each parse iteration covers about 4 MiB of frames

std::vector<uint8_t> make_stream(size_t frame_len, bool masked, size_t *frames_out) {
  std::vector<uint8_t> payload(frame_len);
  std::mt19937 rng(1);
  for (auto &b : payload) b = static_cast<uint8_t>(rng());
  static const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
  wsc_frame_t f{};
  f.opcode = WSC_OP_BINARY;
  f.flags = WSC_FRAME_FIN | (masked ? WSC_FRAME_MASK : 0u);
  f.mask_key = key;
  f.payload = payload.data();
  f.payload_len = payload.size();
  size_t n;
  wsc_frame_encode(&n, nullptr, 0, &f);
  size_t frames = kStreamBytes / n > 0 ? kStreamBytes / n : 1;
  std::vector<uint8_t> out(n * frames);
  for (size_t i = 0; i < frames; ++i) wsc_frame_encode(&n, out.data() + i * n, n, &f);
  *frames_out = frames;
  return out;
}

void parse(benchmark::State &state, wsc_role_t role) {
  const size_t len = static_cast<size_t>(state.range(0));
  size_t frames;
  // Frames from a client are masked; the parser unmasks in place, so parsing the same buffer
  // again sees it masked with the same key and does the same work.
  std::vector<uint8_t> stream = make_stream(len, role == WSC_ROLE_SERVER, &frames);
  size_t messages = 0;
  wsc::ReceiverConfig cfg;
  cfg.role = role;
  cfg.sink = [](void *ctx, const wsc_parser_event_t &) { ++*static_cast<size_t *>(ctx); };
  wsc::Receiver rx(cfg, &messages);
  for (auto _ : state) {
    size_t used;
    if (rx.feed(stream.data(), stream.size(), &used) != 0) state.SkipWithError("parse error");
    benchmark::DoNotOptimize(messages);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
}

void BM_ParseServerMasked(benchmark::State &state) { parse(state, WSC_ROLE_SERVER); }
void BM_ParseClientUnmasked(benchmark::State &state) { parse(state, WSC_ROLE_CLIENT); }
BENCHMARK(BM_ParseServerMasked)->Arg(16)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_ParseClientUnmasked)->Arg(16)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);

void BM_Memcpy(benchmark::State &state) {
  const size_t len = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> src(len, 1), dst(len);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), len);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_Memcpy)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);

void BM_MaskInPlace(benchmark::State &state) {
  const size_t len = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> buf(len, 1);
  const uint8_t key[4] = {1, 2, 3, 4};
  for (auto _ : state) {
    wsc::mask_bytes(buf.data(), buf.data(), len, key, 0);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_MaskInPlace)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);

void BM_MaskCopy(benchmark::State &state) {
  const size_t len = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> src(len, 1), dst(len);
  const uint8_t key[4] = {1, 2, 3, 4};
  for (auto _ : state) {
    wsc::mask_bytes(dst.data(), src.data(), len, key, 0);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_MaskCopy)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);

std::vector<uint8_t> text(size_t len, bool ascii) {
  // Mixed: Latin, Greek, CJK and emoji, as in multilingual chat text.
  static const char *pieces[] = {"hello ", "caf\xc3\xa9 ", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 ",
                                 "\xe4\xbd\xa0\xe5\xa5\xbd ", "\xf0\x9f\x98\x80 "};
  std::vector<uint8_t> out;
  for (size_t i = 0; out.size() < len; ++i) {
    const char *p = ascii ? "the quick brown fox " : pieces[i % 5];
    out.insert(out.end(), p, p + std::strlen(p));
  }
  while (out.size() > len || (!out.empty() && (out.back() & 0xC0) == 0x80)) out.pop_back();
  while (!out.empty() && out.back() >= 0x80) out.pop_back();
  return out;
}

void utf8(benchmark::State &state, bool ascii) {
  std::vector<uint8_t> t = text(static_cast<size_t>(state.range(0)), ascii);
  if (!wsc::utf8_valid(t.data(), t.size())) state.SkipWithError("bench text is not UTF-8");
  for (auto _ : state) benchmark::DoNotOptimize(wsc::utf8_valid(t.data(), t.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * t.size()));
}
void BM_Utf8Ascii(benchmark::State &state) { utf8(state, true); }
void BM_Utf8Multilingual(benchmark::State &state) { utf8(state, false); }
BENCHMARK(BM_Utf8Ascii)->Arg(1024)->Arg(64 << 10);
BENCHMARK(BM_Utf8Multilingual)->Arg(1024)->Arg(64 << 10);

void sender(benchmark::State &state, wsc_role_t role) {
  const size_t len = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> payload(len, 7);
  size_t bytes = 0;
  wsc_sender_options_t o = WSC_SENDER_OPTIONS_INIT;
  o.role = role;
  wsc_sender_t *s;
  wsc_sender_new(&s, &o,
                 [](wsc_sender_t *, const wsc_buf_t *b, uint32_t n, void *ud) {
                   for (uint32_t i = 0; i < n; ++i) *static_cast<size_t *>(ud) += b[i].len;
                 },
                 &bytes);
  for (auto _ : state) wsc_sender_send(s, WSC_OP_BINARY, payload.data(), len, 0);
  wsc_sender_free(s);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
void BM_SendServer(benchmark::State &state) { sender(state, WSC_ROLE_SERVER); }
void BM_SendClientMasked(benchmark::State &state) { sender(state, WSC_ROLE_CLIENT); }
BENCHMARK(BM_SendServer)->Arg(16)->Arg(1024)->Arg(64 << 10);
BENCHMARK(BM_SendClientMasked)->Arg(16)->Arg(1024)->Arg(64 << 10);

}  // namespace

BENCHMARK_MAIN();
