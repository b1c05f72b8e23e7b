// The placement service's cost for a DeepSeek-V3-size question: 58 MoE layers x 256 routed
// experts (top-8) on a 64-die 8 x 8 mesh, policy "ep" (and "tp", the largest reply).
//
// Prints the request and reply sizes on the wire, encode and decode+check times, the policy's own
// time in-process, and the round trip through a PlacementService over loopback TCP (the service on
// a thread of this process; every round trip asks a new epoch, so nothing is memoised), plus the
// round trip of a memoised answer.
//
//   bench_placement_service [iterations=20]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "placement/placement_client.h"
#include "placement/placement_service.h"
#include "placement/policy.h"
#include "protocol/codec.h"
#include "protocol/placement_convert.h"
#include "sim/random.h"

using namespace wafersim;
using namespace wafersim::placement;
using Clock = std::chrono::steady_clock;

namespace {

Problem deepSeek(bool heatmaps) {
  constexpr uint32_t kLayers = 58, kExperts = 256, kTopK = 8, kTokens = 256;
  Problem p;
  p.fabric = Fabric::mesh(8, 8, 2e14, 1e12, 2e11, uint64_t{64} << 30);
  p.model = {kLayers, kExperts, kTopK, 7168, 2048, true, 3ull * 7168 * 2048, 2};
  p.profile = LoadProfile(kLayers, kExperts, 64, heatmaps, heatmaps);
  RandomStream rng(1, 2);
  std::vector<uint64_t> request(kTokens);
  std::vector<uint32_t> position(kTokens), die(kTokens), choices(kTokens * kTopK);
  for (uint32_t l = 0; l < kLayers; ++l) {
    for (uint32_t t = 0; t < kTokens; ++t) {
      request[t] = t % 32;
      position[t] = t / 32;
      die[t] = t % 64;
      for (uint32_t j = 0; j < kTopK; ++j) {
        uint32_t e;
        bool fresh;
        do {
          const double u = rng.uniform();
          e = static_cast<uint32_t>(u * u * kExperts);
          fresh = std::find(&choices[t * kTopK], &choices[t * kTopK + j], e) == &choices[t * kTopK + j];
        } while (!fresh);
        choices[t * kTopK + j] = e;
      }
    }
    p.profile.record(l, request, position, die, choices, kTopK);
  }
  p.tokensPerStep = kTokens;
  p.attentionSeconds = 2e-4;
  p.current = expertParallel(p);
  return p;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Summary {
  double min = 0, median = 0;
};
Summary summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2]};
}

void wire(const char* label, const proto::PlacementRequestMessage& request, int iterations) {
  std::vector<double> enc, dec;
  size_t bytes = 0;
  for (int i = 0; i < iterations; ++i) {
    auto t0 = Clock::now();
    zmq::message_t frame = proto::encode(1, request);
    auto t1 = Clock::now();
    bytes = frame.size();
    proto::RejectCounter rejects;
    auto decoded = proto::tryDecode(std::move(frame), rejects);
    auto read = proto::tryRead<proto::PlacementRequestMessage>(*decoded, rejects);
    auto t2 = Clock::now();
    if (!read) {
      std::fprintf(stderr, "refused: %s\n", read.error().describe().c_str());
      std::exit(1);
    }
    enc.push_back(ms(t1 - t0));
    dec.push_back(ms(t2 - t1));
  }
  auto e = summarise(enc), d = summarise(dec);
  std::printf("%-34s %10zu B   encode %7.3f ms (min %7.3f)   decode+check %7.3f ms (min %7.3f)\n", label, bytes,
              e.median, e.min, d.median, d.min);
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  std::printf("placement service, DeepSeek-V3 size: 58 layers x 256 experts (top-8), 8 x 8 mesh (64 dies), %d iterations\n",
              iterations);

  for (bool heatmaps : {false, true}) {
    proto::PlacementRequestMessage request{"bench", 0, "ep", deepSeek(heatmaps)};
    wire(heatmaps ? "request (pairs + next heatmaps)" : "request (no heatmaps)", request, iterations);
  }
  const Problem problem = deepSeek(false);
  for (const char* policy : {"ep", "tp"}) {
    proto::PlacementReplyMessage reply = runPolicy({"bench", 0, policy, problem});
    std::vector<double> decide, enc, dec;
    size_t bytes = 0;
    for (int i = 0; i < iterations; ++i) {
      auto t0 = Clock::now();
      auto r = runPolicy({"bench", 0, policy, problem});
      decide.push_back(ms(Clock::now() - t0));
      auto t1 = Clock::now();
      zmq::message_t frame = proto::encode(proto::kPlacementServiceSender, reply);
      auto t2 = Clock::now();
      bytes = frame.size();
      proto::RejectCounter rejects;
      auto decoded = proto::tryDecode(std::move(frame), rejects);
      auto back = proto::tryRead<proto::PlacementReplyMessage>(*decoded, rejects);
      auto t3 = Clock::now();
      if (!back || !r.applied()) {
        std::fprintf(stderr, "%s: %s\n", policy, back ? r.decision.reason.c_str() : back.error().describe().c_str());
        return 1;
      }
      enc.push_back(ms(t2 - t1));
      dec.push_back(ms(t3 - t2));
    }
    auto p = summarise(decide), e = summarise(enc), d = summarise(dec);
    std::printf("reply %-28s %10zu B   encode %7.3f ms (min %7.3f)   decode+check %7.3f ms (min %7.3f)\n",
                (std::string("(") + policy + ", applied)").c_str(), bytes, e.median, e.min, d.median, d.min);
    std::printf("policy %-27s in-process decide + checks %8.3f ms (min %8.3f)\n", policy, p.median, p.min);
  }

  // Round trips through the service over loopback TCP.
  ServiceOptions options;
  options.bind = "tcp://127.0.0.1:*";
  options.log = false;
  PlacementService service(options);
  std::atomic<bool> stop{false};
  std::thread serving([&] { service.run(stop); });
  PlacementClient client(service.endpoint(), std::chrono::seconds(60), 0);
  for (const char* policy : {"ep", "tp"}) {
    std::vector<double> trip, decision, memo;
    for (int i = 0; i < iterations; ++i) {
      const uint64_t epoch = (policy[0] == 't' ? 1000000 : 0) + i;
      auto t0 = Clock::now();
      auto reply = client.ask("bench", epoch, policy, {}, problem);
      auto t1 = Clock::now();
      auto again = client.ask("bench", epoch, policy, {}, problem);
      auto t2 = Clock::now();
      if (!reply.applied() || again.decisionMicros != reply.decisionMicros) {
        std::fprintf(stderr, "%s: %s\n", policy, reply.decision.reason.c_str());
        return 1;
      }
      trip.push_back(ms(t1 - t0));
      memo.push_back(ms(t2 - t1));
      decision.push_back(reply.decisionMicros / 1000.0);
    }
    auto t = summarise(trip), d = summarise(decision), m = summarise(memo);
    std::printf("round trip %-23s %8.3f ms (min %8.3f), of which the policy %8.3f ms; memoised answer %8.3f ms (min %8.3f)\n",
                policy, t.median, t.min, d.median, m.median, m.min);
  }
  stop = true;
  serving.join();
  const auto stats = service.stats();
  std::printf("service: %llu decisions, %llu memo hits, %llu rejected\n", (unsigned long long)stats.decisions,
              (unsigned long long)stats.memoHits, (unsigned long long)stats.rejected);
  return 0;
}
