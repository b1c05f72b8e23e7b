// Codec cost of one EventBatch: encode into a ZeroMQ frame, and decode + read back into a reused
// wafersim::EventBatch, for batches of 4,000 events (the figure the node transport cares about)
// and a few other sizes. Decoding is measured both in place (an 8-byte-aligned frame) and with the
// alignment copy (a frame at an odd address, as ZeroMQ may hand over).
//
// Usage: bench_protocol_codec [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "protocol/codec.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace wafersim;

EventBatch makeBatch(size_t events) {
  std::mt19937_64 rng(42);
  EventBatch batch;
  batch.from = 1;
  batch.round = 7;
  batch.bound = SimTime::fromPs(1'000'000);
  batch.events.resize(events);
  for (auto& e : batch.events) {
    e.time = SimTime::fromPs(static_cast<int64_t>(rng() >> 20));
    e.order = rng();
    e.seq = rng();
    e.target = static_cast<ComponentId>(rng());
    e.port = static_cast<PortId>(rng());
    for (size_t i = 0; i < Payload::kCapacity; ++i) e.payload.data()[i] = static_cast<unsigned char>(rng());
  }
  return batch;
}

struct Stats {
  double medianUs, p10Us, p90Us, minUs;
};

Stats summarise(std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[static_cast<size_t>(q * static_cast<double>(us.size() - 1))]; };
  return {at(0.5), at(0.1), at(0.9), us.front()};
}

double since(Clock::time_point t0) { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }

void print(const char* what, size_t events, size_t bytes, const Stats& s) {
  std::printf("%-22s %6zu events %8zu B   median %8.2f us  p10 %8.2f  p90 %8.2f  min %8.2f   %6.2f ns/event  %6.2f GB/s\n",
              what, events, bytes, s.medianUs, s.p10Us, s.p90Us, s.minUs, s.medianUs * 1000.0 / static_cast<double>(events),
              static_cast<double>(bytes) / (s.medianUs * 1000.0));
}

int run(size_t events, int iterations) {
  const EventBatch batch = makeBatch(events);
  proto::Encoder encoder;
  proto::RejectCounter rejects;
  EventBatch out;

  std::vector<double> encodeUs, decodeUs, decodeCopyUs;
  size_t frameBytes = 0;
  std::vector<unsigned char> odd;
  for (int i = 0; i < iterations + iterations / 10; ++i) {
    bool warm = i >= iterations / 10;

    auto t0 = Clock::now();
    zmq::message_t frame = encoder.encode(1, batch);
    double enc = since(t0);
    frameBytes = frame.size();

    // A copy at an odd address for the alignment path (made outside the timed region).
    odd.resize(frame.size() + 8);
    std::memcpy(odd.data() + 3, frame.data(), frame.size());
    zmq::message_t oddFrame(odd.data() + 3, frame.size(), nullptr, nullptr);
    bool aligned = reinterpret_cast<uintptr_t>(frame.data()) % 8 == 0;

    t0 = Clock::now();
    auto decoded = proto::tryDecode(std::move(frame), rejects);
    bool ok = decoded && proto::tryRead(*decoded, out, rejects);
    double dec = since(t0);
    if (!ok || out.events.size() != events) {
      std::fprintf(stderr, "decode failed: %s\n", rejects.summary().c_str());
      return 1;
    }

    t0 = Clock::now();
    auto decodedCopy = proto::tryDecode(std::move(oddFrame), rejects);
    ok = decodedCopy && decodedCopy->copied() && proto::tryRead(*decodedCopy, out, rejects);
    double decCopy = since(t0);
    if (!ok) {
      std::fprintf(stderr, "misaligned decode failed: %s\n", rejects.summary().c_str());
      return 1;
    }
    if (i == 0 && std::memcmp(out.events.data(), batch.events.data(), events * sizeof(Event)) != 0) {
      std::fprintf(stderr, "round trip is not exact\n");
      return 1;
    }
    if (warm) {
      encodeUs.push_back(enc);
      if (aligned) decodeUs.push_back(dec);
      decodeCopyUs.push_back(decCopy);
    }
  }
  Stats e = summarise(encodeUs);
  print("encode", events, frameBytes, e);
  if (!decodeUs.empty()) {
    Stats d = summarise(decodeUs);
    print("decode+read in place", events, frameBytes, d);
  } else {
    std::printf("decode+read in place   (ZeroMQ never handed an aligned frame)\n");
  }
  Stats c = summarise(decodeCopyUs);
  print("decode+read with copy", events, frameBytes, c);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  int iterations = quick ? 200 : 2000;
  std::printf("wafersim protocol codec: EventBatch <-> one ZeroMQ frame (%d timed iterations each)\n", iterations);
  for (size_t events : {size_t{1}, size_t{100}, size_t{4000}, size_t{32000}}) {
    if (int rc = run(events, events > 10000 ? iterations / 10 : iterations)) return rc;
  }
  return 0;
}
