// The real wafersim-placement process on a free loopback port, asked by clients of this process:
// answers as the policy does in-process, one answer per (run, epoch) for every asker, "kept" past
// its deadline, survives rogue frames, and stops cleanly on SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "placement/placement_client.h"
#include "protocol/codec.h"
#include "protocol/placement_convert.h"
#include "tests/models/moe/serving_test_support.h"
#include "tests/placement/placement_service_support.h"

namespace wafersim::placement {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::decideInProcess;
using testing::expectSameReply;
using testing::meshProblem;

std::string serviceBinary() { return std::string(WAFERSIM_BINARY_DIR) + "/placement/wafersim-placement"; }

// One wafersim-placement process: started with --bind tcp://127.0.0.1:* and the given flags, its
// endpoint read from the first line it prints; killed (and reaped) by the destructor if still
// running, and dying with this process should the test itself be killed.
class ServiceProcess {
 public:
  explicit ServiceProcess(std::vector<std::string> flags) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> args{serviceBinary(), "--bind", "tcp://127.0.0.1:*"};
    args.insert(args.end(), flags.begin(), flags.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(out[1], STDOUT_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = out[0];
    endpoint_ = readEndpoint(10s);
  }
  ~ServiceProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }

  const std::string& endpoint() const { return endpoint_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits up to `timeout` for the exit; returns the wait status, or -1.
  int stop(int signal, std::chrono::milliseconds timeout) {
    ::kill(pid_, signal);
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

 private:
  std::string readEndpoint(std::chrono::milliseconds timeout) {
    std::string text;
    const auto until = Clock::now() + timeout;
    while (text.find('\n') == std::string::npos && Clock::now() < until) {
      pollfd fd{stdout_, POLLIN, 0};
      if (::poll(&fd, 1, 100) <= 0) continue;
      char buffer[256];
      const ssize_t n = ::read(stdout_, buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, static_cast<size_t>(n));
    }
    const std::string prefix = "wafersim-placement listening on ";
    if (text.rfind(prefix, 0) != 0 || text.find('\n') == std::string::npos)
      throw std::runtime_error("wafersim-placement did not say where it listens; it printed: " + text);
    return text.substr(prefix.size(), text.find('\n') - prefix.size());
  }

  pid_t pid_ = -1;
  int stdout_ = -1;
  bool reaped_ = false;
  std::string endpoint_;
};

TEST(PlacementServiceProcess, AnswersLikeThePolicyInProcess) {
  ServiceProcess service({"--quiet"});
  PlacementClient client(service.endpoint(), 20s);
  const Problem p = meshProblem(4, 4, 8, 64, /*heatmaps=*/true);
  uint64_t epoch = 0;
  for (const std::string name : {"tp", "ep", "ep_random"}) {
    const auto reply = client.ask("run", epoch++, name, {}, p);
    ASSERT_TRUE(reply.applied()) << name << ": " << reply.decision.reason;
    const Decision here = decideInProcess(name, p);
    EXPECT_EQ(reply.decision.placement, here.placement) << name;
    EXPECT_EQ(reply.decision.reason, here.reason) << name;
    EXPECT_EQ(reply.decision.predictedGain, here.predictedGain) << name;
    EXPECT_EQ(reply.decision.optimalityGap, here.optimalityGap) << name;
  }
  Params shift{{"layer_shift", "3"}};
  const auto shifted = client.ask("run", epoch++, "ep", shift, p);
  ASSERT_TRUE(shifted.applied()) << shifted.decision.reason;
  EXPECT_EQ(shifted.decision.placement, decideInProcess("ep", p, shift).placement);
  EXPECT_EQ(service.stop(SIGTERM, 5000ms), 0) << "wafersim-placement did not exit cleanly on SIGTERM";
}

TEST(PlacementServiceProcess, EveryNodeGetsTheSameAnswer) {
  ServiceProcess service({"--quiet"});
  const Problem p = meshProblem(4, 4, 8, 64, false);
  constexpr int kNodes = 4;
  std::vector<proto::PlacementReplyMessage> replies(kNodes);
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i)
    nodes.emplace_back([&, i] {
      PlacementClient client(service.endpoint(), 20s, 1, static_cast<uint32_t>(i));
      Problem mine = p;
      mine.seed = 100 + i;  // different content, same question
      replies[i] = client.ask("job-1", 3, "ep_random", {}, mine);
    });
  for (auto& t : nodes) t.join();
  ASSERT_TRUE(replies[0].applied()) << replies[0].decision.reason;
  for (int i = 1; i < kNodes; ++i) expectSameReply(replies[i], replies[0]);
  // Asked again later, the answer is still the same.
  PlacementClient late(service.endpoint(), 20s);
  expectSameReply(late.ask("job-1", 3, "tp", {}, p), replies[0]);
  EXPECT_EQ(service.stop(SIGINT, 5000ms), 0);
}

TEST(PlacementServiceProcess, PastTheDeadlineTheMappingIsKept) {
  ServiceProcess service({"--quiet", "--deadline-ms", "1"});
  const Problem big = testing::deepSeekProblem(/*heatmaps=*/true);  // TP on it takes far more than 1 ms
  PlacementClient client(service.endpoint(), 30s);
  const auto a = client.ask("run", 1, "tp", {}, big);
  EXPECT_FALSE(a.applied());
  EXPECT_EQ(a.decision.reason, "policy tp took longer than 1 ms");
  EXPECT_TRUE(a.decision.placement == Placement());
  // The policy finishes later; the recorded answer stands for everyone.
  std::this_thread::sleep_for(200ms);
  PlacementClient other(service.endpoint(), 30s, 0, 1);
  expectSameReply(other.ask("run", 1, "tp", {}, big), a);
  EXPECT_EQ(service.stop(SIGTERM, 10000ms), 0);
}

TEST(PlacementServiceProcess, RogueBytesAreRejectedAndItKeepsAnswering) {
  ServiceProcess service({"--quiet"});
  zmq::context_t context;
  zmq::socket_t rogue(context, zmq::socket_type::dealer);
  rogue.set(zmq::sockopt::linger, 0);
  rogue.connect(service.endpoint());
  std::mt19937_64 rng(9);
  for (size_t size : {size_t{0}, size_t{3}, size_t{8}, size_t{64}, size_t{4096}, size_t{1} << 16}) {
    std::string noise(size, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    rogue.send(zmq::message_t(noise), zmq::send_flags::none);
  }
  rogue.send(proto::encode(1, proto::HeartbeatMessage{1, 2}), zmq::send_flags::none);
  // A valid request with a byte flipped inside: whatever it becomes, the service must go on.
  auto valid = proto::encode(1, proto::PlacementRequestMessage{"r", 1, "ep", meshProblem(2, 2, 2, 8, false)});
  for (int i = 0; i < 20; ++i) {
    zmq::message_t bad(valid.data(), valid.size());
    static_cast<uint8_t*>(bad.data())[8 + rng() % (bad.size() - 8)] ^= static_cast<uint8_t>(1 + rng() % 255);
    rogue.send(zmq::message_t(), zmq::send_flags::sndmore);
    rogue.send(std::move(bad), zmq::send_flags::none);
  }
  PlacementClient client(service.endpoint(), 20s);
  const Problem p = meshProblem(4, 4, 4, 32, false);
  const auto reply = client.ask("after the storm", 1, "ep", {}, p);
  ASSERT_TRUE(reply.applied()) << reply.decision.reason;
  EXPECT_EQ(reply.decision.placement, decideInProcess("ep", p).placement);
  EXPECT_EQ(service.stop(SIGTERM, 5000ms), 0);
}

TEST(PlacementServiceProcess, AClientOfAServiceThatDiedKeepsTheMapping) {
  std::string endpoint;
  {
    ServiceProcess service({"--quiet"});
    endpoint = service.endpoint();
    EXPECT_EQ(service.stop(SIGKILL, 5000ms) & 0x7f, SIGKILL);
  }
  PlacementClient client(endpoint, 150ms, 2);
  const auto reply = client.ask("run", 1, "ep", {}, meshProblem(2, 2, 1, 4, false));
  EXPECT_FALSE(reply.applied());
  EXPECT_EQ(reply.decision.reason, "placement service at " + endpoint + " did not answer in 450 ms (3 tries of 150 ms)");
}

// A serving run whose online placement (EPLB every 50 us) is decided by the service process gives
// the results of deciding in process, bit for bit, on 1 and 2 partitions (every partition thread
// asks; the service answers each (run, epoch) once).
TEST(PlacementServiceProcess, AServingRunDecidedByTheServiceMatchesTheInProcessRun) {
  ServiceProcess service({"--quiet"});
  const std::string scenario = R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 4}
  model: {name: small-moe, layers: 2, hidden_size: 1024, vocab_size: 4096, heads: 8, kv_heads: 2, head_dim: 128,
          experts: 8, top_k: 2, expert_intermediate_size: 1024}
  workload: {kind: closed, concurrency: 16, count: 32, prompt_tokens: 32, output_tokens: 8}
  routing: {kind: synthetic, zipf: 1.5, drift_every_steps: 6, drift_shift: 3}
  mapping: {online_policy: eplb, epoch: 50 us, spare_experts: 4}
simulation: {partitions: 1}
)";
  const auto inProcess = wafersim::testing::run(wafersim::testing::build(scenario), 1);
  const auto viaService =
      wafersim::testing::build(scenario, {"params.mapping.service=" + service.endpoint()}, makeRemoteDecider());
  EXPECT_EQ(wafersim::testing::run(viaService, 1).digestHex(), inProcess.digestHex());
  EXPECT_EQ(wafersim::testing::run(viaService, 2).digestHex(), inProcess.digestHex());
  const TableRecord& log = wafersim::testing::component(inProcess, "host").tables.at("placement_log");
  EXPECT_GE(log.rows(), 2u);
}

}  // namespace
}  // namespace wafersim::placement
