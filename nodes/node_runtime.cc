#include "nodes/node_runtime.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include <zmq.hpp>

#include "coordinator/scenario.h"
#include "models/model_catalog.h"
#include "nodes/zmq_transport.h"
#include "protocol/codec.h"
#include "sim/error.h"
#include "sim/lifecycle.h"
#include "sim/wall_timer.h"

namespace wafersim {
namespace {

using Clock = std::chrono::steady_clock;

int64_t wallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The simulation thread: builds the assigned partition, waits for start, runs, reports.
void simulate(zmq::context_t& context, const std::string& controlEndpoint, zmq::socket_t& data,
              const proto::AssignMessage& assign, uint32_t node) {
  zmq::socket_t control(context, zmq::socket_type::pair);
  control.set(zmq::sockopt::linger, 1000);
  control.connect(controlEndpoint);
  proto::Encoder encoder(0);
  auto sendControl = [&](const auto& message) { control.send(encoder.encode(node, message), zmq::send_flags::none); };
  try {
    ComponentRegistry registry;
    registerBuiltinComponents(registry);
    ModelCatalog catalog;
    registerBuiltinModels(catalog);
    Scenario scenario = parseScenario(assign.scenario, "assigned scenario", assign.overrides);
    SystemGraph graph = catalog.build(scenario.model, scenario.modelParams, "assigned scenario: params", scenario.run.seed);
    PartitionMap map{assign.partitionCount, assign.partitionMap};
    graph.validate(registry);
    validatePartitioning(graph, map);
    const RunOptions& run = assign.options;
    Partition partition(graph, registry, map, assign.partition,
                        PartitionOptions{run.seed, run.lookahead, run.checker, run.digest});
    sendControl(proto::ReadyMessage{assign.partition, static_cast<uint32_t>(partition.results().size())});

    // Wait for start (or an abort) from the I/O thread.
    for (bool started = false; !started;) {
      zmq::message_t frame;
      if (!control.recv(frame)) continue;
      proto::RejectCounter rejects;
      auto decoded = proto::tryDecode(std::move(frame), rejects);
      if (!decoded) continue;
      if (decoded->kind() == proto::Envelope::START) started = true;
      if (decoded->kind() == proto::Envelope::ABORT) {
        auto abort = proto::tryRead<proto::AbortMessage>(*decoded, rejects);
        fail(ErrorKind::Disconnected, "run aborted before start: ", abort ? abort->reason : "");
      }
    }

    ZmqTransport transport(context, assign.partition, assign.dataEndpoints, data, control);
    auto strategy = makeSyncStrategy(run.sync);
    proto::ResultsMessage results;
    results.report.id = assign.partition;
    WallTimer wall;
    runLifecycle(partition, transport, *strategy, run.end, results.report.sync);
    results.report.wallSeconds = wall.seconds();
    results.report.events = partition.eventsCommitted();
    results.lastEventTime = partition.lastEventTime();
    Results local;
    local.add(partition.results());
    results.components = local.components();
    if (transport.rejects().total() > 0)
      std::fprintf(stderr, "wafersim-node %u: rejected %llu messages during the run: %s\n", node,
                   static_cast<unsigned long long>(transport.rejects().total()), transport.rejects().summary().c_str());
    sendControl(results);
    // Keep the data sockets open until every node is done: peers may still need what we sent.
    transport.awaitShutdown();
    transport.dropPending();
  } catch (const Error& e) {
    sendControl(proto::FailureMessage{e.kind(), std::string("node ") + std::to_string(node) + ": " + e.what()});
  } catch (const std::exception& e) {
    sendControl(proto::FailureMessage{ErrorKind::Internal, std::string("node ") + std::to_string(node) + ": " + e.what()});
  }
}

}  // namespace

int rankFromEnvironment() {
  for (const char* name : {"JOB_COMPLETION_INDEX", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK"})
    if (const char* v = std::getenv(name); v && *v) return std::atoi(v);
  return -1;
}

int runNode(const NodeOptions& options) {
  zmq::context_t context(1);
  const uint32_t node = options.node;

  zmq::socket_t data(context, zmq::socket_type::pull);
  data.set(zmq::sockopt::linger, 0);
  data.set(zmq::sockopt::rcvhwm, 0);
  data.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::DecodeLimits{}.maxFrameBytes));
  data.bind("tcp://" + options.bindHost + ":*");
  const std::string dataEndpoint = data.get(zmq::sockopt::last_endpoint);

  const std::string controlEndpoint = "inproc://wafersim-control";
  zmq::socket_t control(context, zmq::socket_type::pair);
  control.set(zmq::sockopt::linger, 0);
  control.bind(controlEndpoint);

  zmq::socket_t coordinator(context, zmq::socket_type::dealer);
  coordinator.set(zmq::sockopt::routing_id, "node-" + std::to_string(node));
  coordinator.set(zmq::sockopt::linger, 1000);
  coordinator.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::DecodeLimits{}.maxFrameBytes));
  coordinator.connect(options.coordinator);

  proto::Encoder encoder(0);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  coordinator.send(encoder.encode(node, proto::HelloMessage{proto::kProtocolVersion, node, {"window", "null"},
                                                            dataEndpoint, static_cast<uint32_t>(getpid()), host}),
                   zmq::send_flags::none);

  std::optional<std::thread> sim;
  std::atomic<bool> simDone{false};
  auto heartbeatInterval = std::chrono::milliseconds(500);
  auto heartbeatTimeout = std::chrono::milliseconds(options.registrationTimeoutMs);
  Clock::time_point lastHeard = Clock::now(), lastSent = Clock::now();
  uint64_t heartbeatSeq = 0;
  proto::RejectCounter rejects;
  int exitCode = kNodeOk;
  bool resultsSent = false;

  auto abortSim = [&](const std::string& reason) {
    if (sim && !simDone) control.send(encoder.encode(proto::kCoordinatorSender, proto::AbortMessage{reason}),
                                      zmq::send_flags::none);
  };

  for (;;) {
    zmq::pollitem_t items[] = {{coordinator.handle(), 0, ZMQ_POLLIN, 0}, {control.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(50));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
      continue;
    }
    const auto now = Clock::now();

    if (items[0].revents & ZMQ_POLLIN) {
      zmq::message_t frame;
      while (coordinator.recv(frame, zmq::recv_flags::dontwait)) {
        lastHeard = now;
        auto decoded = proto::tryDecode(std::move(frame), rejects);
        if (!decoded) {
          std::fprintf(stderr, "wafersim-node %u: rejected a message from the coordinator: %s\n", node,
                       decoded.error().describe().c_str());
          continue;
        }
        switch (decoded->kind()) {
          case proto::Envelope::ASSIGN: {
            if (sim) break;  // one assignment per process
            auto assign = proto::tryRead<proto::AssignMessage>(*decoded, rejects);
            if (!assign || assign->partition != node) {
              std::string why = assign ? "assigned partition " + std::to_string(assign->partition) + " to node " +
                                             std::to_string(node)
                                       : assign.error().describe();
              coordinator.send(encoder.encode(node, proto::FailureMessage{ErrorKind::InvalidConfig,
                                                                          "node " + std::to_string(node) +
                                                                              ": unusable assignment: " + why}),
                               zmq::send_flags::none);
              exitCode = kNodeBadConfig;
              break;
            }
            heartbeatInterval = std::chrono::milliseconds(std::max<uint32_t>(assign->heartbeatIntervalMs, 10));
            heartbeatTimeout = std::chrono::milliseconds(std::max<uint32_t>(assign->heartbeatTimeoutMs, 100));
            sim.emplace([&, a = std::move(*assign)] {
              simulate(context, controlEndpoint, data, a, node);
              simDone = true;
            });
            break;
          }
          case proto::Envelope::START:
            control.send(encoder.encode(proto::kCoordinatorSender, proto::StartMessage{}), zmq::send_flags::none);
            break;
          case proto::Envelope::TERMINATE:  // quiescence decided: relay to the simulation thread
            if (auto t = proto::tryRead<proto::TerminateMessage>(*decoded, rejects))
              control.send(encoder.encode(proto::kCoordinatorSender, *t), zmq::send_flags::none);
            break;
          case proto::Envelope::QUIESCENCE:  // a probe: the simulation thread answers it
            if (auto q = proto::tryRead<proto::QuiescenceMessage>(*decoded, rejects))
              control.send(encoder.encode(proto::kCoordinatorSender, *q), zmq::send_flags::none);
            break;
          case proto::Envelope::ABORT: {
            auto abort = proto::tryRead<proto::AbortMessage>(*decoded, rejects);
            const std::string reason = abort ? abort->reason : "(unreadable reason)";
            std::fprintf(stderr, "wafersim-node %u: run aborted by the coordinator: %s\n", node, reason.c_str());
            abortSim(reason);
            if (sim) sim->join();
            return resultsSent ? kNodeOk : kNodeRunFailed;
          }
          case proto::Envelope::SHUTDOWN:
            if (sim && !simDone)
              control.send(encoder.encode(proto::kCoordinatorSender, proto::ShutdownMessage{}), zmq::send_flags::none);
            if (sim) sim->join();
            coordinator.set(zmq::sockopt::linger, 0);  // nothing left worth delivering
            return exitCode;
          case proto::Envelope::HEARTBEAT:
            break;
          default:
            rejects.record(proto::RejectReason::UnexpectedKind);
            std::fprintf(stderr, "wafersim-node %u: ignored a %s message from the coordinator\n", node,
                         proto::kindName(decoded->kind()));
        }
      }
    }

    if (items[1].revents & ZMQ_POLLIN) {
      zmq::message_t frame;
      while (control.recv(frame, zmq::recv_flags::dontwait)) {
        proto::RejectCounter own;
        auto decoded = proto::tryDecode(zmq::message_t(frame.data(), frame.size()), own);
        if (decoded && decoded->kind() == proto::Envelope::RESULTS) resultsSent = true;
        if (decoded && decoded->kind() == proto::Envelope::FAILURE) exitCode = kNodeRunFailed;
        coordinator.send(std::move(frame), zmq::send_flags::none);  // already an envelope from this node
        lastSent = now;
      }
    }

    if (now - lastSent >= heartbeatInterval) {
      coordinator.send(encoder.encode(node, proto::HeartbeatMessage{++heartbeatSeq, wallNs()}), zmq::send_flags::none);
      lastSent = now;
    }
    if (now - lastHeard > heartbeatTimeout) {
      const double silent = std::chrono::duration<double>(now - lastHeard).count();
      std::fprintf(stderr, "wafersim-node %u: lost the coordinator (%s silent for %.1f s); exiting\n", node,
                   options.coordinator.c_str(), silent);
      abortSim("lost the coordinator");
      if (sim) sim->join();
      coordinator.set(zmq::sockopt::linger, 0);
      return kNodeLostCoordinator;
    }
  }
}

}  // namespace wafersim
