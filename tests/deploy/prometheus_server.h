// A real Prometheus (Debian's /usr/bin/prometheus) for the integration tests: a generated
// configuration (scrape interval 1 s, one job per kind of wafersim process, static targets),
// storage in the test's temporary folder, a loopback port; its HTTP API (instant queries, the
// targets' health) through the coordinator's HTTP client.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/http_client.h"
#include "tests/deploy/deploy_support.h"
#include "tests/deploy/test_process.h"

namespace wafersim::testing {

inline const char* kPrometheus = "/usr/bin/prometheus";

// Percent-encoding of a query-string value.
inline std::string urlEncoded(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct ScrapeJob {
  std::string name;
  std::vector<std::string> targets;  // HOST:PORT
};

class PrometheusServer {
 public:
  PrometheusServer(const std::filesystem::path& dir, const std::vector<ScrapeJob>& jobs, uint16_t port)
      : url_("http://127.0.0.1:" + std::to_string(port)) {
    std::filesystem::create_directories(dir / "data");
    std::ofstream config(dir / "prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n";
    for (const auto& job : jobs) {
      config << "  - job_name: " << job.name << "\n    static_configs:\n      - targets: [";
      for (size_t i = 0; i < job.targets.size(); ++i) config << (i ? ", " : "") << "'" << job.targets[i] << "'";
      config << "]\n";
    }
    config.close();
    process_ = TestProcess({kPrometheus, "--config.file=" + (dir / "prometheus.yml").string(),
                            "--storage.tsdb.path=" + (dir / "data").string(),
                            "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                           dir / "prometheus.log");
  }

  const std::string& url() const { return url_; }
  const TestProcess& process() const { return process_; }

  // GET on the API; the parsed body (null when the request failed or the body is not JSON).
  nlohmann::json get(const std::string& target) const {
    try {
      http::ClientRequest request;
      request.target = target;
      request.timeout = std::chrono::milliseconds(10000);
      return nlohmann::json::parse(http::request(url_, request).body, nullptr, false);
    } catch (const std::exception&) {
      return nlohmann::json();
    }
  }

  // An instant query: the API's whole answer ({"status": ..., "data": {"result": [...]}}).
  nlohmann::json query(const std::string& promql) const { return get("/api/v1/query?query=" + urlEncoded(promql)); }

  // The active targets: (job, instance, health, last error).
  struct Target {
    std::string job, instance, health, lastError;
  };
  std::vector<Target> targets() const {
    std::vector<Target> out;
    const nlohmann::json body = get("/api/v1/targets?state=active");
    if (!body.is_object() || !body.contains("data")) return out;
    for (const auto& t : body["data"].value("activeTargets", nlohmann::json::array()))
      out.push_back({t["labels"].value("job", ""), t["labels"].value("instance", ""), t.value("health", ""),
                     t.value("lastError", "")});
    return out;
  }

 private:
  std::string url_;
  TestProcess process_;
};

}  // namespace wafersim::testing
