// The Prometheus metrics of one process, served at GET /metrics (docs/metrics.md has every name).
//
// Contract:
//   - One MetricsRegistry per process. Code that counts as it goes (the API's request counter and
//     latency histogram) uses prometheus-cpp's own Registry (registry()); figures computed when
//     scraped (a run's progress, a node pool's size) come from Collectables added with add().
//   - render() merges every family of the same name into one (one HELP and TYPE line each), in
//     name order, and serializes with prometheus-cpp's TextSerializer (format 0.0.4). Every
//     process's output includes wafersim_build_info{version,commit,process} 1.
//   - Collectables are held weakly: one that is destroyed (a finished run's observer) drops out of
//     the next scrape by itself; remove() drops one at once.
//   - Thread-safe: scrapes run on HTTP threads while collectables are added and removed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "obs/http_server.h"

namespace wafersim::obs {

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  explicit MetricsRegistry(std::string process);  // "coordinator", "node", "placement", "run"
  prometheus::Registry& registry() { return *registry_; }
  void add(const std::shared_ptr<const prometheus::Collectable>& collectable);
  void remove(const prometheus::Collectable* collectable);
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<const prometheus::Collectable> buildInfo_;
  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<const prometheus::Collectable>> collectables_;
};

// GET /metrics (text/plain; version=0.0.4) on a router.
void addMetricsRoute(http::Router& router, const MetricsRegistry& metrics);

// "HOST:PORT" (PORT may be 0: any free port) -> (host, port); throws Error{InvalidConfig} naming
// `what` ("--metrics") and the text when it is not that.
std::pair<std::string, uint16_t> parseHostPort(const std::string& text, const std::string& what);

// /metrics, /healthz and /readyz on an HTTP server of their own: for processes without another
// one (nodes, the placement service, `wafersim run --metrics`).
class MetricsServer {
 public:
  MetricsServer(const std::string& hostPort, const MetricsRegistry& metrics);  // binds and starts
  ~MetricsServer();
  std::string url() const;
  uint16_t port() const;

 private:
  std::unique_ptr<http::Server> server_;
};

// Building families by hand, for Collectables.
class FamilySet {
 public:
  // The family of that name, made with `help` and `type` on first use.
  prometheus::MetricFamily& family(const std::string& name, const std::string& help, prometheus::MetricType type);
  void gauge(const std::string& name, const std::string& help, const Labels& labels, double value);
  void counter(const std::string& name, const std::string& help, const Labels& labels, double value);
  // A histogram from cumulative bucket counts at the given upper bounds (+Inf is added).
  void histogram(const std::string& name, const std::string& help, const Labels& labels,
                 const std::vector<double>& upperBounds, const std::vector<uint64_t>& cumulative, uint64_t count,
                 double sum);
  std::vector<prometheus::MetricFamily> take() { return std::move(families_); }

 private:
  std::vector<prometheus::MetricFamily> families_;
};

// A Collectable that calls `collect` at every scrape.
std::shared_ptr<prometheus::Collectable> makeCollectable(std::function<std::vector<prometheus::MetricFamily>()> collect);

// The build, as wafersim_build_info reports it.
const char* buildVersion();
const char* buildCommit();

}  // namespace wafersim::obs
