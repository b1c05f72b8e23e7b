#include "nodes/node_runtime.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>

#include <zmq.hpp>

#include "scenario/scenario.h"
#include "models/model_catalog.h"
#include "nodes/zmq_transport.h"
#include "obs/metrics.h"
#include "obs/run_observer.h"
#include "placement/placement_client.h"
#include "protocol/codec.h"
#include "protocol/curve_auth.h"
#include "sim/checkpoint.h"
#include "sim/error.h"
#include "sim/simulation.h"
#include "sim/lifecycle.h"
#include "sim/wall_timer.h"

namespace wafersim {
namespace {

using Clock = std::chrono::steady_clock;

// The node's own figures on its /metrics (docs/metrics.md).
class NodeMetrics final : public prometheus::Collectable {
 public:
  explicit NodeMetrics(std::string node) : node_(std::move(node)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    obs::FamilySet out;
    const obs::Labels l = {{"node", node_}};
    out.counter("wafersim_node_runs_total", "Runs this node has served.", l, static_cast<double>(runsServed.load()));
    out.gauge("wafersim_node_busy", "1 while a run holds this node.", l, busy.load() ? 1 : 0);
    out.counter("wafersim_node_rejected_messages_total", "Control messages refused: malformed, unexpected or stale.",
                l, static_cast<double>(rejected.load()));
    return out.take();
  }
  std::atomic<bool> busy{false};
  std::atomic<uint64_t> runsServed{0}, rejected{0};

 private:
  std::string node_;
};

// The simulation thread of one run: builds the partitions assigned to this node, waits for start,
// runs them (the first on this thread, the others on threads of their own), reports, and holds
// the peer sockets open until the run is released everywhere.
void simulate(zmq::context_t& context, const std::string& controlEndpoint, zmq::socket_t& data,
              const proto::AssignMessage& assign, const std::string& runId, std::stop_token stop,
              obs::RunObserver* observer, const std::shared_ptr<const proto::CurveSecurity>& curve,
              std::atomic<bool>* cutAsked) {
  zmq::socket_t control(context, zmq::socket_type::pair);
  control.set(zmq::sockopt::linger, 1000);
  control.connect(controlEndpoint);
  proto::Encoder encoder(0);
  encoder.setRunId(runId);
  const uint32_t self = assign.partition;
  auto sendControl = [&](uint32_t sender, const auto& message) {
    control.send(encoder.encode(sender, message), zmq::send_flags::none);
  };
  auto describe = [&] {
    std::string what = assign.hosted.size() == 1 ? "partition " : "partitions ";
    for (size_t s = 0; s < assign.hosted.size(); ++s) what += (s ? "," : "") + std::to_string(assign.hosted[s]);
    return what;
  };
  try {
    ComponentRegistry registry;
    registerBuiltinComponents(registry);
    ModelCatalog catalog;
    registerBuiltinModels(catalog);
    Scenario scenario = parseScenario(assign.scenario, "assigned scenario", assign.overrides);
    SystemGraph graph = catalog.build(scenario.model, scenario.modelParams, "assigned scenario: params",
                                      BuildContext{scenario.run.seed,
                                                   placement::makeRemoteDecider({curve, assign.placementKey})});
    PartitionMap map{assign.partitionCount, assign.partitionMap};
    graph.validate(registry);
    validatePartitioning(graph, map);
    const RunOptions& run = assign.options;
    observer->attach(graph, assign.partitionCount, run.end, 0, scenario.metricsMaxSeries);
    // Checkpoints go to, and a resumed run's cut comes from, a folder every node reaches (a shared
    // file system); parts are committed by whichever node writes the last one (checkpoint.h).
    CheckpointOptions checkpoint = run.checkpoint;
    if (assign.checkpointOnDemand) checkpoint.requested = cutAsked;
    WAFERSIM_REQUIRE(checkpoint.every >= Duration::zero() && checkpoint.everyWallSeconds >= 0 &&
                         std::isfinite(checkpoint.everyWallSeconds),
                     "assigned checkpoint intervals must be finite and non-negative");
    if (checkpoint.enabled()) {
      requireCheckpointable(graph, registry, "checkpoints");
      const std::string dir = checkpoint.dir;
      const uint32_t parts = assign.partitionCount;
      checkpoint.partWritten = [dir, parts](PartitionId, SimTime time, uint64_t, double) {
        commitIfComplete(dir, time, parts);
      };
    }
    std::shared_ptr<const CheckpointImage> resume;
    if (!checkpoint.resumeFrom.empty()) {
      resume = std::make_shared<CheckpointImage>(loadLatestCheckpoint(checkpoint.resumeFrom));
      requireSameSystem(*resume, checkpoint.fingerprint);
    }
    std::vector<std::unique_ptr<Partition>> partitions;
    for (PartitionId p : assign.hosted) {
      partitions.push_back(std::make_unique<Partition>(
          graph, registry, map, p,
          PartitionOptions{run.seed, run.lookahead, run.checker, run.digest, stop, &observer->progress(), observer,
                           scenario.run.observeEvery, &checkpoint}));
      sendControl(p, proto::ReadyMessage{p, static_cast<uint32_t>(partitions.back()->results().size())});
    }

    // Wait for start (or an abort) from the I/O thread.
    for (bool started = false; !started;) {
      zmq::message_t frame;
      if (!control.recv(frame)) continue;
      proto::RejectCounter rejects;
      auto decoded = proto::tryDecode(std::move(frame), rejects);
      if (!decoded) continue;
      if (decoded->kind() == proto::Envelope::START) started = true;
      if (decoded->kind() == proto::Envelope::ABORT || decoded->kind() == proto::Envelope::RELEASE ||
          decoded->kind() == proto::Envelope::SHUTDOWN) {
        auto abort = proto::tryRead<proto::AbortMessage>(*decoded, rejects);
        fail(ErrorKind::Disconnected, "run aborted before start: ", abort ? abort->reason : "released");
      }
    }

    NodeLink link(context, assign.hosted, assign.dataEndpoints, data, control, runId, curve, assign.dataKeys);
    const size_t k = partitions.size();
    std::vector<proto::ResultsMessage> results(k);
    std::vector<std::exception_ptr> errors(k);
    auto runOne = [&](size_t slot) {
      try {
        Partition& partition = *partitions[slot];
        auto transport = link.endpoint(assign.hosted[slot]);
        transport->setLive(observer->progress().partition(assign.hosted[slot]));
        auto strategy = makeSyncStrategy(run.sync);
        proto::ResultsMessage& r = results[slot];
        r.report.id = assign.hosted[slot];
        WallTimer wall;
        runLifecycle(partition, *transport, *strategy, run.end, r.report.sync, resume.get());
        r.report.wallSeconds = wall.seconds();
        r.report.checkpoint = partition.checkpointStats();
        r.report.events = partition.eventsCommitted();
        r.lastEventTime = partition.lastEventTime();
        Results local;
        local.add(partition.results());
        r.components = local.components();
      } catch (const std::exception& e) {
        errors[slot] = std::current_exception();
        link.abort(std::string("partition ") + std::to_string(assign.hosted[slot]) + " failed: " + e.what());
      }
    };
    {
      std::vector<std::jthread> threads;
      for (size_t slot = 1; slot < k; ++slot) threads.emplace_back(runOne, slot);
      runOne(0);
    }
    // The first failure that is not another partition's abort of this node names the cause.
    std::exception_ptr error;
    for (auto& e : errors) {
      if (!e) continue;
      if (!error) error = e;
      try {
        std::rethrow_exception(e);
      } catch (const Error& x) {
        if (x.kind() != ErrorKind::Disconnected || std::string(x.what()).rfind("partition ", 0) != 0) {
          error = e;
          break;
        }
      } catch (...) {
        error = e;
        break;
      }
    }
    if (error) std::rethrow_exception(error);
    if (link.rejects().total() > 0)
      std::fprintf(stderr, "wafersim-node (run %s, %s): rejected %llu messages during the run: %s\n", runId.c_str(),
                   describe().c_str(), static_cast<unsigned long long>(link.rejects().total()),
                   link.rejects().summary().c_str());
    const uint64_t peak = peakResidentKiB();
    for (size_t slot = 0; slot < k; ++slot) {
      results[slot].report.peakRssKiB = peak;
      sendControl(assign.hosted[slot], results[slot]);
    }
    // Keep the peer sockets open until every node is done: peers may still need what we sent.
    link.awaitShutdown();
    link.dropPending();
  } catch (const Error& e) {
    sendControl(self, proto::FailureMessage{e.kind(), describe() + ": " + e.what()});
  } catch (const std::exception& e) {
    sendControl(self, proto::FailureMessage{ErrorKind::Internal, describe() + ": " + e.what()});
  }
}

uint64_t physicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(size) : 0;
}

}  // namespace

int rankFromEnvironment() {
  for (const char* name : {"JOB_COMPLETION_INDEX", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK"})
    if (const char* v = std::getenv(name); v && *v) return std::atoi(v);
  return -1;
}

int runNode(const NodeOptions& options) {
  zmq::context_t context(1);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::string name = options.name;
  if (name.empty())
    name = options.rank >= 0 ? "node-" + std::to_string(options.rank)
                             : std::string(host) + "-" + std::to_string(::getpid());
  const uint32_t rank = options.rank >= 0 ? static_cast<uint32_t>(options.rank) : 0;

  // With CURVE: the context's ZAP handler, before any CURVE server socket of it binds.
  std::unique_ptr<proto::ZapAuthenticator> zap;
  std::shared_ptr<prometheus::Collectable> authMetrics;
  if (options.curve) {
    zap = std::make_unique<proto::ZapAuthenticator>(context, options.curve->allowed);
    authMetrics = zap->metrics({"data"});
    if (options.metrics) options.metrics->add(authMetrics);
  }

  zmq::socket_t data(context, zmq::socket_type::pull);
  if (options.curve) proto::makeCurveServer(data, *options.curve, "data");
  data.set(zmq::sockopt::linger, 0);
  data.set(zmq::sockopt::rcvhwm, 0);
  data.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::DecodeLimits{}.maxFrameBytes));
  data.bind("tcp://" + options.bindHost + ":*");
  const std::string dataEndpoint = data.get(zmq::sockopt::last_endpoint);

  // The control pair to the simulation thread is made afresh for every run, on its own inproc
  // endpoint: a PAIR takes one peer, and a new peer connecting to the old bound end can be refused
  // while the last run's pipe is still being torn down (both sides then block in send).
  std::optional<zmq::socket_t> control;
  uint64_t runsHere = 0;

  zmq::socket_t coordinator(context, zmq::socket_type::dealer);
  coordinator.set(zmq::sockopt::routing_id, name);
  coordinator.set(zmq::sockopt::linger, 1000);
  coordinator.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::DecodeLimits{}.maxFrameBytes));
  if (options.curve) proto::makeCurveClient(coordinator, *options.curve, options.curve->coordinatorKey);
  coordinator.connect(options.coordinator);

  proto::Encoder encoder(0);
  proto::HelloMessage hello{proto::kProtocolVersion,
                                  rank,
                                  {"window", "null", "multi-run"},
                                  dataEndpoint,
                                  static_cast<uint32_t>(getpid()),
                                  host,
                                  name,
                                  std::max(1u, std::thread::hardware_concurrency()),
                                  physicalMemoryBytes(),
                                  options.pool,
                                  options.metricsUrl};
  if (options.curve) hello.curveKey = options.curve->own.publicKey;
  coordinator.send(encoder.encode(rank, hello), zmq::send_flags::none);

  auto nodeMetrics = std::make_shared<NodeMetrics>(name);
  if (options.metrics) options.metrics->add(nodeMetrics);
  std::atomic<bool>* busy = &nodeMetrics->busy;
  std::atomic<uint64_t>* runsServed = &nodeMetrics->runsServed;

  // The run in progress, if any.
  std::optional<std::thread> sim;
  std::optional<std::stop_source> stop;
  std::shared_ptr<obs::RunObserver> observer;  // the run's: read by the heartbeats and /metrics
  // The run's on-demand cut: set by a CheckpointNow, taken by partition 0 at its next window start.
  std::shared_ptr<std::atomic<bool>> cutAsked;
  std::string runId;
  std::atomic<bool> simDone{false};
  bool resultsSent = false;

  auto heartbeatInterval = std::chrono::milliseconds(500);
  const auto heartbeatTimeout = std::chrono::milliseconds(std::max(options.heartbeatTimeoutMs, 100));
  // Until first heard. A pool node says hello again every 2 s until its coordinator answers.
  const auto helloAgain = std::chrono::milliseconds(options.pool ? std::min(options.registrationTimeoutMs, 2000)
                                                                 : options.registrationTimeoutMs);
  auto silenceLimit = helloAgain;
  Clock::time_point lastHeard = Clock::now(), lastSent = Clock::now();
  uint64_t heartbeatSeq = 0;
  uint64_t staleMessages = 0;
  proto::RejectCounter rejects;
  int exitCode = kNodeOk;

  auto relay = [&](const auto& message) {
    if (sim && !simDone) control->send(encoder.encodeFor(proto::kCoordinatorSender, runId, message), zmq::send_flags::none);
  };
  // Ends the run in progress (after relaying what ends it) and forgets it.
  auto endRun = [&](bool abort, const std::string& reason) {
    if (!sim) return;
    if (abort) {
      stop->request_stop();
      relay(proto::AbortMessage{reason});
    } else {
      relay(proto::ReleaseMessage{});
    }
    sim->join();
    // What the simulation thread said last (results, a failure) still goes out, then: free again.
    zmq::message_t frame;
    while (control->recv(frame, zmq::recv_flags::dontwait)) coordinator.send(std::move(frame), zmq::send_flags::none);
    coordinator.send(encoder.encodeFor(rank, runId, proto::ReleaseMessage{}), zmq::send_flags::none);
    sim.reset();
    control.reset();
    stop.reset();
    if (options.metrics) options.metrics->remove(observer.get());
    observer.reset();
    busy->store(false);
    runId.clear();
    simDone = false;
  };

  // Started by a launcher (coordinator/child_process.h): leave with it, whichever of its threads
  // started us.
  const char* parentVar = std::getenv("WAFERSIM_PARENT_PID");
  const pid_t parent = parentVar && *parentVar ? static_cast<pid_t>(std::atoi(parentVar)) : 0;

  for (;;) {
    if (parent > 0 && ::getppid() != parent) {
      std::fprintf(stderr, "wafersim-node %s: the process that started it (pid %d) is gone; exiting\n", name.c_str(),
                   static_cast<int>(parent));
      endRun(true, "the launching process is gone");
      coordinator.set(zmq::sockopt::linger, 0);
      return kNodeLostCoordinator;
    }
    zmq::pollitem_t items[] = {{coordinator.handle(), 0, ZMQ_POLLIN, 0},
                               {control ? control->handle() : nullptr, 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, control ? 2 : 1, std::chrono::milliseconds(50));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
      continue;
    }
    const auto now = Clock::now();

    if (items[0].revents & ZMQ_POLLIN) {
      zmq::message_t frame;
      while (coordinator.recv(frame, zmq::recv_flags::dontwait)) {
        lastHeard = now;
        silenceLimit = heartbeatTimeout;
        auto decoded = proto::tryDecode(std::move(frame), rejects);
        if (!decoded) {
          std::fprintf(stderr, "wafersim-node %s: rejected a message from the coordinator: %s\n", name.c_str(),
                       decoded.error().describe().c_str());
          continue;
        }
        const std::string about = decoded->runId();
        const auto kind = decoded->kind();
        if (kind == proto::Envelope::HEARTBEAT) continue;
        if (kind == proto::Envelope::SHUTDOWN) {
          endRun(true, "the coordinator shut the node down");
          coordinator.set(zmq::sockopt::linger, 0);  // nothing left worth delivering
          return exitCode;
        }
        if (kind == proto::Envelope::ASSIGN) {
          auto assign = proto::tryRead<proto::AssignMessage>(*decoded, rejects);
          std::string refused;
          if (!assign) refused = assign.error().describe();
          else if (about.empty()) refused = "the assignment names no run";
          else if (sim) refused = "this node is busy with run " + runId;
          else if (options.curve && assign->dataKeys.size() != assign->partitionCount)
            refused = "CURVE is on here but the assignment carries no data keys for the peers";
          if (!refused.empty()) {
            coordinator.send(encoder.encodeFor(rank, about,
                                               proto::FailureMessage{ErrorKind::InvalidConfig,
                                                                     "node " + name + ": unusable assignment: " + refused}),
                             zmq::send_flags::none);
            continue;
          }
          heartbeatInterval = std::chrono::milliseconds(std::max<uint32_t>(assign->heartbeatIntervalMs, 10));
          runId = about;
          resultsSent = false;
          stop.emplace();
          cutAsked = std::make_shared<std::atomic<bool>>(false);
          observer = std::make_shared<obs::RunObserver>(obs::RunObserverOptions{
              .runId = runId, .node = name, .exportEngine = true, .exportModel = false, .forward = true});
          if (options.metrics) options.metrics->add(observer);
          busy->store(true);
          runsServed->fetch_add(1);
          const std::string controlEndpoint = "inproc://wafersim-control-" + std::to_string(++runsHere);
          control.emplace(context, zmq::socket_type::pair);
          control->set(zmq::sockopt::linger, 0);
          control->bind(controlEndpoint);
          sim.emplace([&, a = std::move(*assign), id = runId, token = stop->get_token(), p = observer.get(),
                       endpoint = controlEndpoint, cut = cutAsked] {
            simulate(context, endpoint, data, a, id, token, p, options.curve, cut.get());
            simDone = true;
          });
          continue;
        }
        if (!sim || about != runId) {  // a message of a run that is over here, or never was
          ++staleMessages;
          continue;
        }
        switch (kind) {
          case proto::Envelope::START:
            relay(proto::StartMessage{});
            break;
          case proto::Envelope::TERMINATE:  // quiescence decided: relay to the simulation thread
            if (auto t = proto::tryRead<proto::TerminateMessage>(*decoded, rejects)) relay(*t);
            break;
          case proto::Envelope::QUIESCENCE:  // a probe: the simulation thread answers it
            if (auto q = proto::tryRead<proto::QuiescenceMessage>(*decoded, rejects)) relay(*q);
            break;
          case proto::Envelope::ABORT: {
            auto abort = proto::tryRead<proto::AbortMessage>(*decoded, rejects);
            const std::string reason = abort ? abort->reason : "(unreadable reason)";
            std::fprintf(stderr, "wafersim-node %s: run %s aborted by the coordinator: %s\n", name.c_str(),
                         runId.c_str(), reason.c_str());
            if (!resultsSent) exitCode = kNodeRunFailed;
            endRun(true, reason);
            break;
          }
          case proto::Envelope::RELEASE:
            endRun(false, "");
            break;
          case proto::Envelope::CHECKPOINT_NOW:
            if (proto::tryRead<proto::CheckpointNowMessage>(*decoded, rejects)) cutAsked->store(true);
            break;
          default:
            rejects.record(proto::RejectReason::UnexpectedKind);
            std::fprintf(stderr, "wafersim-node %s: ignored a %s message from the coordinator\n", name.c_str(),
                         proto::kindName(kind));
        }
      }
    }

    if (control && (items[1].revents & ZMQ_POLLIN)) {
      zmq::message_t frame;
      while (control->recv(frame, zmq::recv_flags::dontwait)) {
        proto::RejectCounter own;
        auto decoded = proto::tryDecode(zmq::message_t(frame.data(), frame.size()), own);
        if (decoded && decoded->kind() == proto::Envelope::RESULTS) {
          resultsSent = true;
          exitCode = kNodeOk;
          if (observer) {  // the samples up to the final one go ahead of the results
            proto::HeartbeatMessage beat{++heartbeatSeq, systemClockNs()};
            beat.events = observer->progress().events.load(std::memory_order_relaxed);
            beat.simulatedTimePs = observer->progress().simulatedPs.load(std::memory_order_relaxed);
            beat.samples = observer->takeForwarded();
            coordinator.send(encoder.encodeFor(rank, runId, beat), zmq::send_flags::none);
          }
        }
        if (decoded && decoded->kind() == proto::Envelope::FAILURE) exitCode = kNodeRunFailed;
        coordinator.send(std::move(frame), zmq::send_flags::none);  // already an envelope of this run
        lastSent = now;
      }
    }

    nodeMetrics->rejected.store(rejects.total() + staleMessages, std::memory_order_relaxed);
    if (now - lastSent >= heartbeatInterval) {
      proto::HeartbeatMessage beat{++heartbeatSeq, systemClockNs()};
      if (observer) {
        beat.events = observer->progress().events.load(std::memory_order_relaxed);
        beat.simulatedTimePs = observer->progress().simulatedPs.load(std::memory_order_relaxed);
        beat.samples = observer->takeForwarded();
      }
      coordinator.send(encoder.encodeFor(rank, runId, beat), zmq::send_flags::none);
      lastSent = now;
    }
    if (now - lastHeard > silenceLimit) {
      const double silent = std::chrono::duration<double>(now - lastHeard).count();
      std::fprintf(stderr, "wafersim-node %s: lost the coordinator (%s silent for %.1f s)%s\n", name.c_str(),
                   options.coordinator.c_str(), silent, options.pool ? "; registering again" : "; exiting");
      endRun(true, "lost the coordinator");
      if (!options.pool) {
        coordinator.set(zmq::sockopt::linger, 0);
        return kNodeLostCoordinator;
      }
      // A pool node outlives its coordinator: say hello again; ZeroMQ reconnects by itself.
      coordinator.send(encoder.encode(rank, hello), zmq::send_flags::none);
      lastHeard = now;
      silenceLimit = helloAgain;
    }
  }
}

}  // namespace wafersim
