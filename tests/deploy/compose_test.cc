// docker-compose.yml as Compose reads it: Debian's docker-compose (1.29) renders it with nothing
// but .env (`docker-compose config`), and the rendering must hold the whole stack (coordinator,
// placement, scalable pool nodes, Prometheus, Grafana), a health check on every service and
// `condition: service_healthy` on every dependency, the coordinator's data on a named volume,
// pinned image tags, ports published only where documented. .env must supply every ${VARIABLE},
// and deploy/prometheus/prometheus-compose.yml must name the services Compose starts. The
// docker-compose checks skip, saying why, where it is not installed (scripts/deps.sh installs it).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "tests/deploy/container_support.h"
#include "tests/deploy/promtool.h"

namespace wafersim::testing {
namespace {

using namespace container;

const std::set<std::string> kServices = {"coordinator", "placement", "node", "prometheus", "grafana"};

#define REQUIRE_DOCKER_COMPOSE()                                                                        \
  if (findTool("docker-compose").empty())                                                               \
  GTEST_SKIP() << "docker-compose is not installed (Debian package docker-compose; scripts/deps.sh " \
                  "installs it)"

// `docker-compose -f docker-compose.yml config` in the repository root with an environment of
// PATH, HOME and `extra` only, so that every variable comes from .env (or `extra`).
struct Rendered {
  int code = -1;
  std::string yaml;      // stdout
  std::string messages;  // stderr: warnings such as "The X variable is not set"
  YAML::Node doc;
};

Rendered composeConfig(const std::map<std::string, std::string>& extra = {}) {
  const std::filesystem::path errors =
      std::filesystem::temp_directory_path() / ("wafersim-compose-" + std::to_string(::getpid()) + ".err");
  const char* path = std::getenv("PATH");
  std::vector<std::string> words = {"env", "-i", std::string("PATH=") + (path ? path : "/usr/bin:/bin"),
                                    "HOME=" + std::filesystem::temp_directory_path().string()};
  for (const auto& [k, v] : extra) words.push_back(k + "=" + v);
  for (const char* w : {"docker-compose", "-f", "docker-compose.yml", "config"}) words.push_back(w);
  const CommandOutput out = runCommand("cd " + shellQuoted(sourceRoot()) + " && { " + shellLine(words) + " 2>" +
                                       shellQuoted(errors) + "; }");
  Rendered r;
  r.code = out.code;
  r.yaml = out.text;
  r.messages = readText(errors);
  std::error_code ec;
  std::filesystem::remove(errors, ec);
  try {
    r.doc = YAML::Load(r.yaml);
  } catch (const YAML::Exception& e) {
    ADD_FAILURE() << "docker-compose config printed no YAML: " << e.what() << "\n" << r.yaml;
  }
  return r;
}

// A rendering shared by the tests of one run (docker-compose takes about a second).
const Rendered& rendered() {
  static const Rendered r = composeConfig();
  return r;
}

std::vector<std::string> strings(const YAML::Node& list) {
  std::vector<std::string> out;
  if (list && list.IsSequence())
    for (const auto& item : list) out.push_back(item.as<std::string>());
  return out;
}

std::string env(const YAML::Node& service, const std::string& name) {
  const YAML::Node e = service["environment"];
  return e && e[name] ? e[name].as<std::string>() : "";
}

// A service's volumes as (source, target) pairs, from the short form that docker-compose 1.29
// prints ("SOURCE:TARGET[:MODE]") or the long form.
std::vector<std::pair<std::string, std::string>> mounts(const YAML::Node& service) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : service["volumes"]) {
    if (v.IsMap()) {
      out.emplace_back(v["source"].as<std::string>(""), v["target"].as<std::string>());
      continue;
    }
    const std::string text = v.as<std::string>();
    const auto first = text.find(':');
    const auto second = text.find(':', first + 1);
    out.emplace_back(text.substr(0, first), text.substr(first + 1, second == std::string::npos
                                                                           ? std::string::npos
                                                                           : second - first - 1));
  }
  return out;
}

// "HOST:PUBLISHED:TARGET[/tcp]" (or the long form) -> (HOST, PUBLISHED, TARGET).
struct Port {
  std::string host, published, target;
};
std::vector<Port> ports(const YAML::Node& service) {
  std::vector<Port> out;
  for (const auto& p : service["ports"]) {
    if (p.IsMap()) {
      out.push_back({p["host_ip"].as<std::string>(""), p["published"].as<std::string>(""),
                     p["target"].as<std::string>()});
      continue;
    }
    static const std::regex form(R"(^(?:([^:]*):)?(\d+):(\d+)(?:/tcp)?$)");
    std::smatch m;
    const std::string text = p.as<std::string>();
    EXPECT_TRUE(std::regex_match(text, m, form)) << text;
    out.push_back({m[1], m[2], m[3]});
  }
  return out;
}

TEST(DockerCompose, RendersWithOnlyDotEnvAndHoldsTheWholeStack) {
  REQUIRE_DOCKER_COMPOSE();
  const Rendered& r = rendered();
  ASSERT_EQ(r.code, 0) << r.messages << r.yaml;
  EXPECT_EQ(r.messages, "") << "docker-compose config warned";
  std::set<std::string> services;
  for (const auto& s : r.doc["services"]) services.insert(s.first.as<std::string>());
  EXPECT_EQ(services, kServices);
}

TEST(DockerCompose, EveryServiceHasAHealthCheckAndWaitsForHealthyDependencies) {
  REQUIRE_DOCKER_COMPOSE();
  const YAML::Node services = rendered().doc["services"];
  ASSERT_TRUE(services);
  std::map<std::string, std::set<std::string>> dependencies;
  for (const auto& s : services) {
    const std::string name = s.first.as<std::string>();
    const std::vector<std::string> test = strings(s.second["healthcheck"]["test"]);
    ASSERT_GE(test.size(), 2u) << name << " has no health check";
    EXPECT_EQ(test[0], "CMD") << name << ": exec form, no shell needed in the image";
    EXPECT_TRUE(s.second["healthcheck"]["interval"]) << name;
    EXPECT_TRUE(s.second["healthcheck"]["retries"]) << name;
    for (const auto& d : s.second["depends_on"]) {
      dependencies[name].insert(d.first.as<std::string>());
      ASSERT_TRUE(d.second.IsMap()) << name << " -> " << d.first.as<std::string>() << ": no condition";
      EXPECT_EQ(d.second["condition"].as<std::string>(""), "service_healthy")
          << name << " -> " << d.first.as<std::string>();
    }
  }
  const std::map<std::string, std::set<std::string>> expected = {{"placement", {"coordinator"}},
                                                                 {"node", {"coordinator", "placement"}},
                                                                 {"prometheus", {"coordinator"}},
                                                                 {"grafana", {"prometheus"}}};
  EXPECT_EQ(dependencies, expected);
  // The wafersim services check /healthz with the image's own script.
  for (const char* name : {"coordinator", "placement", "node"}) {
    const std::vector<std::string> test = strings(services[name]["healthcheck"]["test"]);
    EXPECT_THAT(test, ::testing::ElementsAre("CMD", "wafersim-healthcheck", ::testing::_, "/healthz")) << name;
  }
}

TEST(DockerCompose, EveryImageIsPinned) {
  REQUIRE_DOCKER_COMPOSE();
  const auto dotEnv = envFile(sourceRoot() / ".env");
  static const std::regex pinned(R"(^[a-z0-9./_-]+(:[A-Za-z0-9_.-]+)(@sha256:[0-9a-f]{64})?$|^[a-z0-9./_-]+@sha256:[0-9a-f]{64}$)");
  for (const auto& s : rendered().doc["services"]) {
    const std::string name = s.first.as<std::string>();
    const std::string image = s.second["image"].as<std::string>("");
    ASSERT_FALSE(image.empty()) << name << ": no image (a built one needs a tag too)";
    EXPECT_TRUE(std::regex_match(image, pinned)) << name << ": " << image << " has no tag";
    const std::string tag = image.substr(image.rfind(':') + 1);
    EXPECT_NE(tag, "latest") << name << ": " << image;
    EXPECT_EQ(tag.find("${"), std::string::npos) << name;
  }
  // The wafersim services share the one image that deploy/Dockerfile builds.
  for (const char* name : {"coordinator", "placement", "node"}) {
    const YAML::Node s = rendered().doc["services"][name];
    EXPECT_EQ(s["image"].as<std::string>(""), dotEnv.at("WAFERSIM_IMAGE") + ":" + dotEnv.at("WAFERSIM_VERSION"));
    EXPECT_EQ(s["build"]["dockerfile"].as<std::string>(""), "deploy/Dockerfile") << name;
    EXPECT_EQ(s["build"]["args"]["DEBIAN_TAG"].as<std::string>(""), dotEnv.at("DEBIAN_TAG")) << name;
    EXPECT_TRUE(s["init"].as<bool>(false)) << name << ": signals reach the process through an init";
  }
}

TEST(DockerCompose, TheCoordinatorKeepsItsDataOnANamedVolume) {
  REQUIRE_DOCKER_COMPOSE();
  const YAML::Node doc = rendered().doc;
  const YAML::Node coordinator = doc["services"]["coordinator"];
  const std::string data = env(coordinator, "WAFERSIM_DATA");
  EXPECT_EQ(data, "/var/lib/wafersim");
  bool onVolume = false;
  for (const auto& [source, target] : mounts(coordinator))
    if (target == data) {
      onVolume = true;
      EXPECT_EQ(source, "coordinator-data") << "a named volume, not a bind mount";
    }
  EXPECT_TRUE(onVolume) << "the data folder is not mounted";
  // The nodes see it read-only at the same path: the files scenarios name (DATA/files/).
  const std::vector<std::pair<std::string, std::string>> nodeMounts = mounts(doc["services"]["node"]);
  EXPECT_THAT(nodeMounts, ::testing::ElementsAre(std::make_pair(std::string("coordinator-data"), data)));
  EXPECT_THAT(doc["services"]["node"]["volumes"][0].as<std::string>(""), ::testing::EndsWith(":ro"));
  std::set<std::string> volumes;
  for (const auto& v : doc["volumes"]) volumes.insert(v.first.as<std::string>());
  EXPECT_EQ(volumes, (std::set<std::string>{"coordinator-data", "prometheus-data", "grafana-data"}));
}

TEST(DockerCompose, PublishesOnlyTheApiPrometheusAndGrafana) {
  REQUIRE_DOCKER_COMPOSE();
  const auto dotEnv = envFile(sourceRoot() / ".env");
  const YAML::Node services = rendered().doc["services"];
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"coordinator", {dotEnv.at("WAFERSIM_API_PORT"), "8080"}},
      {"prometheus", {dotEnv.at("PROMETHEUS_PORT"), "9090"}},
      {"grafana", {dotEnv.at("GRAFANA_PORT"), "3000"}}};
  for (const auto& s : services) {
    const std::string name = s.first.as<std::string>();
    const std::vector<Port> published = ports(s.second);
    if (!expected.count(name)) {
      EXPECT_TRUE(published.empty()) << name << " publishes a port (nodes must scale without clashes)";
      continue;
    }
    ASSERT_EQ(published.size(), 1u) << name;
    EXPECT_EQ(published[0].host, dotEnv.at("WAFERSIM_PUBLISH_ADDRESS")) << name;
    EXPECT_EQ(published[0].published, expected.at(name).first) << name;
    EXPECT_EQ(published[0].target, expected.at(name).second) << name;
  }
  EXPECT_EQ(env(services["coordinator"], "WAFERSIM_HTTP"), "0.0.0.0:8080");
}

TEST(DockerCompose, PoolNodesRegisterWithTheCoordinatorAndScale) {
  REQUIRE_DOCKER_COMPOSE();
  const auto dotEnv = envFile(sourceRoot() / ".env");
  const YAML::Node services = rendered().doc["services"];
  const YAML::Node node = services["node"];
  EXPECT_THAT(strings(node["command"]), ::testing::ElementsAre("wafersim-node", "--pool"));
  const std::string control = env(services["coordinator"], "WAFERSIM_CONTROL");
  ASSERT_THAT(control, ::testing::StartsWith("tcp://*:"));
  EXPECT_EQ(env(node, "WAFERSIM_COORDINATOR"), "tcp://coordinator:" + control.substr(control.rfind(':') + 1));
  // Addresses other containers can reach: the entrypoint writes in the container's own.
  EXPECT_EQ(env(node, "WAFERSIM_BIND_HOST"), "auto");
  EXPECT_EQ(env(node, "WAFERSIM_METRICS"), "auto:9471");
  EXPECT_FALSE(node["container_name"]) << "a fixed name stops --scale";
  EXPECT_FALSE(node["hostname"]) << "a fixed host name gives every replica the same";
  EXPECT_EQ(node["scale"].as<std::string>(""), dotEnv.at("WAFERSIM_NODES"));

  const Rendered four = composeConfig({{"WAFERSIM_NODES", "4"}});
  ASSERT_EQ(four.code, 0) << four.messages;
  EXPECT_EQ(four.doc["services"]["node"]["scale"].as<int>(0), 4) << "the shell's value wins over .env";
}

TEST(DockerCompose, ThePlacementServiceRegistersWithTheCoordinator) {
  REQUIRE_DOCKER_COMPOSE();
  const std::vector<std::string> command = strings(rendered().doc["services"]["placement"]["command"]);
  ASSERT_FALSE(command.empty());
  EXPECT_EQ(command[0], "wafersim-placement");
  std::map<std::string, std::string> flags;
  for (size_t i = 1; i + 1 < command.size(); i += 2) flags[command[i]] = command[i + 1];
  EXPECT_EQ(flags["--coordinator"], "tcp://coordinator:5555");
  EXPECT_EQ(flags["--bind"], "tcp://*:5570");
  EXPECT_EQ(flags["--advertise"], "tcp://placement:5570") << "runs reach it by the service's name";
  EXPECT_EQ(flags["--metrics"], "0.0.0.0:9470");
}

TEST(DockerCompose, PrometheusAndGrafanaReadTheRepositorysConfiguration) {
  REQUIRE_DOCKER_COMPOSE();
  const YAML::Node services = rendered().doc["services"];
  const YAML::Node prometheus = services["prometheus"];
  std::string configFile;
  for (const auto& word : strings(prometheus["command"]))
    if (word.rfind("--config.file=", 0) == 0) configFile = word.substr(14);
  EXPECT_EQ(configFile, "/etc/wafersim/prometheus/prometheus-compose.yml");
  bool configMounted = false;
  for (const auto& [source, target] : mounts(prometheus))
    if (target == "/etc/wafersim/prometheus") {
      configMounted = true;
      EXPECT_TRUE(std::filesystem::equivalent(source, sourceRoot() / "deploy" / "prometheus")) << source;
    }
  EXPECT_TRUE(configMounted);

  const YAML::Node grafana = services["grafana"];
  EXPECT_EQ(env(grafana, "WAFERSIM_PROMETHEUS_URL"), "http://prometheus:9090");
  // grafana.env's dashboards folder (docker-compose inlines env_file) is where dashboards/json is.
  const std::string dashboardsDir = env(grafana, "WAFERSIM_DASHBOARDS_DIR");
  EXPECT_EQ(dashboardsDir, envFile(sourceRoot() / "dashboards" / "grafana.env").at("WAFERSIM_DASHBOARDS_DIR"));
  std::map<std::string, std::filesystem::path> byTarget;
  for (const auto& [source, target] : mounts(grafana)) byTarget[target] = source;
  const std::map<std::string, std::filesystem::path> expected = {
      {"/etc/grafana/provisioning/datasources", sourceRoot() / "dashboards/provisioning/datasources"},
      {"/etc/grafana/provisioning/dashboards", sourceRoot() / "dashboards/provisioning/dashboards"},
      {dashboardsDir, sourceRoot() / "dashboards/json"}};
  for (const auto& [target, source] : expected) {
    ASSERT_TRUE(byTarget.count(target)) << target << " is not mounted";
    EXPECT_TRUE(std::filesystem::equivalent(byTarget[target], source)) << target;
  }
}

// Every ${VARIABLE} of docker-compose.yml is set in .env, and .env sets nothing unused.
TEST(DockerCompose, DotEnvSuppliesEveryVariable) {
  const std::string text = readText(sourceRoot() / "docker-compose.yml");
  ASSERT_FALSE(text.empty());
  const auto dotEnv = envFile(sourceRoot() / ".env");
  std::set<std::string> used;
  static const std::regex variable(R"(\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), variable); it != std::sregex_iterator(); ++it) {
    if ((*it)[0] == "$$") continue;  // a literal $
    used.insert((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
  }
  EXPECT_GE(used.size(), 5u);
  for (const auto& v : used) EXPECT_TRUE(dotEnv.count(v)) << "${" << v << "} is not set in .env";
  for (const auto& [k, v] : dotEnv) {
    EXPECT_FALSE(v.empty()) << k;
    if (k.rfind("COMPOSE_", 0) != 0) {
      EXPECT_TRUE(used.count(k)) << k << " in .env is not used";
    }
  }
}

TEST(PrometheusCompose, PromtoolAcceptsIt) {
  if (!havePromtool()) GTEST_SKIP() << "promtool is not installed (Debian package prometheus)";
  const ToolOutput out =
      promtool("check config " + shellQuoted(sourceRoot() / "deploy" / "prometheus" / "prometheus-compose.yml"));
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_THAT(out.text, ::testing::Not(::testing::HasSubstr("WARNING"))) << out.text;
}

// The jobs of prometheus.yml but the local run's, with the Compose services for hosts.
TEST(PrometheusCompose, ScrapesTheStackByServiceName) {
  const std::filesystem::path dir = sourceRoot() / "deploy" / "prometheus";
  const YAML::Node compose = YAML::LoadFile((dir / "prometheus-compose.yml").string());
  const YAML::Node plain = YAML::LoadFile((dir / "prometheus.yml").string());
  EXPECT_EQ(YAML::Dump(compose["global"]), YAML::Dump(plain["global"]));
  EXPECT_EQ(YAML::Dump(compose["rule_files"]), YAML::Dump(plain["rule_files"]));
  std::map<std::string, YAML::Node> jobs;
  for (const auto& job : compose["scrape_configs"]) jobs[job["job_name"].as<std::string>()] = YAML::Node(job);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(strings(jobs["wafersim-coordinator"]["static_configs"][0]["targets"]),
            std::vector<std::string>{"coordinator:8080"});
  EXPECT_EQ(strings(jobs["wafersim-placement"]["static_configs"][0]["targets"]),
            std::vector<std::string>{"placement:9470"});
  EXPECT_EQ(jobs["wafersim-node"]["http_sd_configs"][0]["url"].as<std::string>(""),
            "http://coordinator:8080/api/v1/prometheus/targets");
  EXPECT_TRUE(jobs["wafersim-node"]["file_sd_configs"]);
}

}  // namespace
}  // namespace wafersim::testing
