#include "obs/metrics.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "sim/error.h"

#ifndef WAFERSIM_VERSION
#define WAFERSIM_VERSION "unknown"
#endif
#ifndef WAFERSIM_GIT_COMMIT
#define WAFERSIM_GIT_COMMIT "unknown"
#endif

namespace wafersim::obs {
namespace {

prometheus::ClientMetric metricWith(const Labels& labels) {
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}

class BuildInfo final : public prometheus::Collectable {
 public:
  explicit BuildInfo(std::string process) : process_(std::move(process)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    FamilySet set;
    set.gauge("wafersim_build_info", "The wafersim build: version, commit and which process this is.",
              {{"version", buildVersion()}, {"commit", buildCommit()}, {"process", process_}}, 1);
    return set.take();
  }

 private:
  std::string process_;
};

class CallbackCollectable final : public prometheus::Collectable {
 public:
  explicit CallbackCollectable(std::function<std::vector<prometheus::MetricFamily>()> collect)
      : collect_(std::move(collect)) {}
  std::vector<prometheus::MetricFamily> Collect() const override { return collect_(); }

 private:
  std::function<std::vector<prometheus::MetricFamily>()> collect_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> makeCollectable(std::function<std::vector<prometheus::MetricFamily>()> collect) {
  return std::make_shared<CallbackCollectable>(std::move(collect));
}

const char* buildVersion() { return WAFERSIM_VERSION; }
const char* buildCommit() { return WAFERSIM_GIT_COMMIT; }

MetricsRegistry::MetricsRegistry(std::string process)
    : registry_(std::make_shared<prometheus::Registry>()), buildInfo_(std::make_shared<BuildInfo>(std::move(process))) {
  add(buildInfo_);
}

void MetricsRegistry::add(const std::shared_ptr<const prometheus::Collectable>& collectable) {
  std::lock_guard lock(mutex_);
  collectables_.push_back(collectable);
}

void MetricsRegistry::remove(const prometheus::Collectable* collectable) {
  std::lock_guard lock(mutex_);
  std::erase_if(collectables_, [&](const auto& weak) {
    auto p = weak.lock();
    return !p || p.get() == collectable;
  });
}

std::string MetricsRegistry::render() const {
  std::vector<std::shared_ptr<const prometheus::Collectable>> live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& weak : collectables_)
      if (auto p = weak.lock()) live.push_back(std::move(p));
  }
  std::map<std::string, prometheus::MetricFamily> merged;
  auto absorb = [&merged](std::vector<prometheus::MetricFamily> families) {
    for (auto& f : families) {
      auto [it, fresh] = merged.try_emplace(f.name);
      if (fresh) {
        it->second = std::move(f);
        continue;
      }
      for (auto& m : f.metric) it->second.metric.push_back(std::move(m));
    }
  };
  absorb(registry_->Collect());
  for (const auto& c : live) absorb(c->Collect());
  std::vector<prometheus::MetricFamily> families;
  families.reserve(merged.size());
  for (auto& [name, f] : merged)
    if (!f.metric.empty()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

void addMetricsRoute(http::Router& router, const MetricsRegistry& metrics) {
  router.add("GET", "/metrics", [&metrics](const http::Request&) {
    return http::Response::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

std::pair<std::string, uint16_t> parseHostPort(const std::string& text, const std::string& what) {
  const auto colon = text.rfind(':');
  unsigned port = 0;
  const char* end = text.data() + text.size();
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      std::from_chars(text.data() + colon + 1, end, port).ptr != end || port > 65535)
    fail(ErrorKind::InvalidConfig, what, ": \"", text, "\" is not HOST:PORT (for example 127.0.0.1:9100, port 0 for any)");
  return {text.substr(0, colon), static_cast<uint16_t>(port)};
}

MetricsServer::MetricsServer(const std::string& hostPort, const MetricsRegistry& metrics) {
  const auto [host, port] = parseHostPort(hostPort, "--metrics");
  http::Router router;
  addMetricsRoute(router, metrics);
  router.add("GET", "/healthz", [](const http::Request&) { return http::Response::json(200, {{"status", "ok"}}); });
  router.add("GET", "/readyz", [](const http::Request&) { return http::Response::json(200, {{"status", "ready"}}); });
  http::ServerOptions options;
  options.host = host;
  options.port = port;
  options.threads = 1;
  server_ = std::make_unique<http::Server>(options, std::move(router));
  server_->start();
}

MetricsServer::~MetricsServer() { server_->stop(); }
std::string MetricsServer::url() const { return server_->url(); }
uint16_t MetricsServer::port() const { return server_->port(); }

prometheus::MetricFamily& FamilySet::family(const std::string& name, const std::string& help,
                                            prometheus::MetricType type) {
  for (auto& f : families_)
    if (f.name == name) return f;
  families_.push_back({name, help, type, {}});
  return families_.back();
}

void FamilySet::gauge(const std::string& name, const std::string& help, const Labels& labels, double value) {
  auto m = metricWith(labels);
  m.gauge.value = value;
  family(name, help, prometheus::MetricType::Gauge).metric.push_back(std::move(m));
}

void FamilySet::counter(const std::string& name, const std::string& help, const Labels& labels, double value) {
  auto m = metricWith(labels);
  m.counter.value = value;
  family(name, help, prometheus::MetricType::Counter).metric.push_back(std::move(m));
}

void FamilySet::histogram(const std::string& name, const std::string& help, const Labels& labels,
                          const std::vector<double>& upperBounds, const std::vector<uint64_t>& cumulative,
                          uint64_t count, double sum) {
  auto m = metricWith(labels);
  for (size_t i = 0; i < upperBounds.size() && i < cumulative.size(); ++i)
    m.histogram.bucket.push_back({cumulative[i], upperBounds[i]});
  m.histogram.bucket.push_back({count, std::numeric_limits<double>::infinity()});
  m.histogram.sample_count = count;
  m.histogram.sample_sum = sum;
  family(name, help, prometheus::MetricType::Histogram).metric.push_back(std::move(m));
}

}  // namespace wafersim::obs
