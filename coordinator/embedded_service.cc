#include "coordinator/embedded_service.h"

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "coordinator/local_launcher.h"
#include "coordinator/placement_process.h"
#include "sim/error.h"

namespace wafersim {

struct EmbeddedService::Impl {
  std::unique_ptr<LocalPlacementService> placement;
  std::unique_ptr<CoordinatorService> service;
  std::unique_ptr<LocalLauncher> launcher;
  std::string logDir;
  proto::CurveFiles curve;  // the service's, for the nodes it starts
  mutable std::mutex mutex;  // guards launcher
  std::atomic<bool> stopping{false};
  std::thread supervisor;
  bool stopped = false;
};

EmbeddedService::EmbeddedService(ServiceOptions options, uint32_t nodes) : impl_(std::make_unique<Impl>()) {
  impl_->placement = std::make_unique<LocalPlacementService>(options.curve);
  if (options.placementEndpoint.empty()) options.placementEndpoint = impl_->placement->endpoint();
  impl_->logDir = (std::filesystem::path(options.dataDir) / "nodes").string();
  impl_->service = std::make_unique<CoordinatorService>(options);
  impl_->launcher = std::make_unique<LocalLauncher>(findNodeBinary());
  impl_->curve = options.curve;
  impl_->launcher->start(
      LaunchSpec{nodes, impl_->service->controlEndpoint(), true, "local-", impl_->logDir, "127.0.0.1", impl_->curve});
  impl_->service->start();
  impl_->supervisor = std::thread([this] {
    while (!impl_->stopping.load()) {
      {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        for (const auto& [name, how] : impl_->launcher->reapExited()) {
          if (impl_->stopping.load()) break;
          std::fprintf(stderr, "wafersim serve: node %s ended (%s); starting a replacement\n", name.c_str(), how.c_str());
          impl_->service->pool().nodeLost(name, "node " + name + " (" + how + ")");
          try {
            impl_->launcher->start(LaunchSpec{1, impl_->service->controlEndpoint(), true, "local-", impl_->logDir,
                                              "127.0.0.1", impl_->curve});
          } catch (const std::exception& e) {
            std::fprintf(stderr, "wafersim serve: cannot start a replacement node: %s\n", e.what());
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

EmbeddedService::~EmbeddedService() { stop(); }

std::string EmbeddedService::url() const { return impl_->service->url(); }
const std::string& EmbeddedService::controlEndpoint() const { return impl_->service->controlEndpoint(); }
const std::string& EmbeddedService::placementEndpoint() const { return impl_->placement->endpoint(); }

NodePool& EmbeddedService::pool() { return impl_->service->pool(); }

std::vector<int> EmbeddedService::nodePids() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<int> pids;
  for (pid_t p : impl_->launcher->runningPids()) pids.push_back(p);
  return pids;
}

std::vector<std::pair<std::string, std::string>> EmbeddedService::routes() const { return impl_->service->routes(); }

void EmbeddedService::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping.store(true);
  if (impl_->supervisor.joinable()) impl_->supervisor.join();
  impl_->service->stop();
  impl_->service->pool().shutdownNodes();
  impl_->launcher->waitAll(3000);
  impl_->service.reset();
  impl_->placement.reset();
}

}  // namespace wafersim
