// The commands that deploy/kubernetes gives its containers, run on this machine as a kubelet would
// start them: each container's command and args with its env (values, ConfigMap keys through
// env/envFrom, the downward API's pod name and IP) expanded the kubelet's way ($(VAR)), the
// cluster mapped onto loopback (each "0.0.0.0:<containerPort>" a free port of its own, each
// "<service>:<port>" the port of the pod the Service selects, each volume a scratch folder or the
// ConfigMap's source folder, the pod IP 127.0.0.1). No cluster runs here (docs/deploy.md says why);
// this checks that what the manifests say makes the processes work together:
//   - the one-shot recipe: NODES nodes given JOB_COMPLETION_INDEX 0..N-1 and no --node meet the
//     coordinator side (`wafersim run --no-launch`) through the headless Service's name, the run
//     gives the digest of an in-process run, and every process exits 0;
//   - the service: every container answers its liveness and readiness probes on the port the
//     manifest declares, the pool nodes register under their pod names, the placement service at
//     the endpoint the settings advertise, and a sweep submitted the way docs/deploy.md shows
//     (`wafersim sweep /etc/wafersim/scenarios/... --watch` with WAFERSIM_SERVER from the settings)
//     succeeds.
// Skips, saying why, when kubectl with Kustomize v5 is absent.
#include <fcntl.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/deploy/kubernetes_render.h"
#include "tests/deploy/test_process.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// GET http://127.0.0.1:port/path: the status code (0 when nothing answered) and the body.
std::pair<int, std::string> httpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {0, ""};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return {0, ""};
  const auto body = response.find("\r\n\r\n");
  return {std::atoi(response.c_str() + 9), body == std::string::npos ? "" : response.substr(body + 4)};
}

// The exit status of a child that has exited (not reaped), or -1 while it runs.
int exitStatus(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return -1;
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}

// One pod of a rendered workload, as it would run here.
struct PodRun {
  std::string name;                     // the pod's name (the downward API's metadata.name)
  YAML::Node pod;                       // the pod template
  std::map<int, int> ports;             // containerPort -> the loopback port it gets here
  std::vector<std::string> extraEnv;    // set by a controller (JOB_COMPLETION_INDEX)
  std::unique_ptr<TestProcess> process;
  std::filesystem::path log;
};

// The cluster of one render, on loopback.
class LoopbackCluster {
 public:
  explicit LoopbackCluster(std::vector<YAML::Node> objects) : objects_(std::move(objects)) {}

  // Adds `count` pods of the workload `kind`/`name`; returns their indexes.
  std::vector<size_t> addPods(const std::string& kind, const std::string& name, int count) {
    const YAML::Node workload = named(objects_, kind, name);
    std::vector<size_t> out;
    for (int i = 0; i < count; ++i) {
      PodRun p;
      p.name = name + "-" + std::to_string(i);
      p.pod = workload["spec"]["template"];
      for (const auto& c : p.pod["spec"]["containers"])
        for (const auto& port : c["ports"]) p.ports[port["containerPort"].as<int>()] = uniquePort();
      p.log = tmp_ / (p.name + ".log");
      pods_.push_back(std::move(p));
      out.push_back(pods_.size() - 1);
    }
    return out;
  }
  PodRun& pod(size_t i) { return pods_[i]; }

  // "<service>:<port>" and "tcp://0.0.0.0:<containerPort>" on loopback, for pod `self`.
  std::string mapAddresses(std::string text, const PodRun& self) const {
    for (const auto& service : ofKind(objects_, "Service")) {
      const std::string serviceName = str(service["metadata"]["name"]);
      for (const auto& port : service["spec"]["ports"]) {
        const std::string from = serviceName + ":" + str(port["port"]);
        if (text.find(from) == std::string::npos) continue;
        const PodRun* target = selected(service);
        const int containerPort = containerPortOf(*target, port["targetPort"] ? str(port["targetPort"]) : str(port["port"]));
        text = replaceAll(text, from, "127.0.0.1:" + std::to_string(target->ports.at(containerPort)));
      }
    }
    for (const auto& [containerPort, local] : self.ports)
      text = replaceAll(text, "0.0.0.0:" + std::to_string(containerPort), "127.0.0.1:" + std::to_string(local));
    return text;
  }

  // The container's environment as the kubelet would set it, addresses mapped.
  std::map<std::string, std::string> environment(const PodRun& p, const YAML::Node& c) const {
    std::map<std::string, std::string> env;
    for (const auto& from : c["envFrom"])
      for (const auto& kv : configMap(str(from["configMapRef"]["name"]))["data"])
        env[kv.first.as<std::string>()] = mapAddresses(kv.second.as<std::string>(), p);
    for (const auto& e : c["env"]) {
      const std::string name = str(e["name"]);
      if (e["value"]) env[name] = mapPaths(str(e["value"]), p);
      const YAML::Node from = e["valueFrom"];
      if (!from) continue;
      if (const YAML::Node key = from["configMapKeyRef"])
        env[name] = str(configMap(str(key["name"]))["data"][str(key["key"])]);
      if (const YAML::Node field = from["fieldRef"]) {
        if (str(field["fieldPath"]) == "metadata.name") env[name] = p.name;
        if (str(field["fieldPath"]) == "status.podIP") env[name] = "127.0.0.1";
      }
    }
    for (const auto& extra : p.extraEnv) env[extra.substr(0, extra.find('='))] = extra.substr(extra.find('=') + 1);
    return env;
  }

  // The container's argv, as the kubelet would run it here.
  std::vector<std::string> argv(const PodRun& p, const YAML::Node& c) const {
    const auto env = environment(p, c);
    std::vector<std::string> words;
    for (const auto& w : c["command"]) words.push_back(w.as<std::string>());
    for (const auto& w : c["args"]) words.push_back(w.as<std::string>());
    static const std::map<std::string, std::string> executables{{"wafersim", "cli/wafersim"},
                                                                {"wafersim-coordinator", "coordinator/wafersim-coordinator"},
                                                                {"wafersim-node", "nodes/wafersim-node"},
                                                                {"wafersim-placement", "placement/wafersim-placement"}};
    EXPECT_TRUE(executables.count(words.at(0))) << words[0];
    for (auto& w : words) {
      for (const auto& [name, value] : env) w = replaceAll(w, "$(" + name + ")", value);
      w = mapPaths(mapAddresses(w, p), p);
    }
    // The build tree's program, put in after the mapping: the build tree may itself be under a path
    // the manifests mount (a clone in /tmp, where the pods mount a scratch /tmp).
    words[0] = binaryPath(executables.at(c["command"][0].as<std::string>())).string();
    return words;
  }

  // A mounted path on this machine: a ConfigMap of scenarios is its source folder, anything else
  // a scratch folder per pod and volume.
  std::string mapPaths(const std::string& word, const PodRun& p) const {
    for (const auto& c : p.pod["spec"]["containers"])
      for (const auto& m : c["volumeMounts"]) {
        const std::string mount = str(m["mountPath"]);
        if (word.rfind(mount, 0) != 0) continue;
        std::filesystem::path local = tmp_ / (p.name + "-" + str(m["name"]));
        for (const auto& v : p.pod["spec"]["volumes"])
          if (str(v["name"]) == str(m["name"]) && v["configMap"] &&
              str(v["configMap"]["name"]).rfind("wafersim-scenarios", 0) == 0)
            local = kKubernetesDir / "components/scenarios/scenarios";
        std::filesystem::create_directories(local);
        return local.string() + word.substr(mount.size());
      }
    return word;
  }

  void start(PodRun& p) {
    const YAML::Node c = p.pod["spec"]["containers"][0];
    ChildSpec spec;
    spec.argv = argv(p, c);
    for (const auto& [k, v] : environment(p, c)) spec.env.push_back(k + "=" + v);
    const int fd = ::open(p.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    spec.stdoutFd = fd;
    spec.stderrFd = fd;
    spec.processGroup = 0;
    std::string line;
    for (const auto& a : spec.argv) line += a + " ";
    writeText(tmp_ / (p.name + ".argv"), line);
    const pid_t pid = spawnChild(spec);
    ::close(fd);
    p.process = std::make_unique<TestProcess>(pid, p.log);
  }

  // Polls every probe of the pod's container until it answers 200; what failed, or "".
  std::string probesAnswer(const PodRun& p, std::chrono::milliseconds limit) const {
    const YAML::Node c = p.pod["spec"]["containers"][0];
    for (const std::string probe : {"livenessProbe", "readinessProbe"}) {
      const YAML::Node get = c[probe]["httpGet"];
      const int port = p.ports.at(containerPortOf(p, str(get["port"])));
      const std::string path = str(get["path"]);
      if (!pollUntil(limit, [&] { return httpGet(port, path).first == 200; }))
        return p.name + " " + probe + " GET " + path + " on " + std::to_string(port) + ": no 200; log:\n" +
               p.process->log(1500);
    }
    return "";
  }

  YAML::Node configMap(const std::string& name) const {
    for (const auto& o : ofKind(objects_, "ConfigMap"))
      if (str(o["metadata"]["name"]) == name) return o;
    ADD_FAILURE() << "no ConfigMap " << name;
    return YAML::Node();
  }
  const std::vector<YAML::Node>& objects() const { return objects_; }

 private:
  int uniquePort() {
    for (;;) {
      const int port = freePort();
      if (port != 0 && used_.insert(port).second) return port;
    }
  }
  const PodRun* selected(const YAML::Node& service) const {
    for (const auto& p : pods_)
      if (containsLabels(p.pod["metadata"]["labels"], service["spec"]["selector"])) return &p;
    ADD_FAILURE() << "no pod here for Service " << str(service["metadata"]["name"]);
    return &pods_.front();
  }
  static int containerPortOf(const PodRun& p, const std::string& nameOrNumber) {
    for (const auto& c : p.pod["spec"]["containers"])
      for (const auto& port : c["ports"])
        if (str(port["name"]) == nameOrNumber || str(port["containerPort"]) == nameOrNumber)
          return port["containerPort"].as<int>();
    ADD_FAILURE() << p.name << " has no port " << nameOrNumber;
    return 0;
  }

  std::vector<YAML::Node> objects_;
  std::vector<PodRun> pods_;
  std::set<int> used_;
  TempDir tmp_{"wafersim-k8s-run"};
};

std::vector<YAML::Node> renderObjects(const std::string& dir, const TempDir& tmp) {
  const Render r = render(kKubernetesDir / dir, tmp / "render.yaml");
  EXPECT_EQ(r.code, 0) << r.errors;
  return r.objects;
}

TEST(KubernetesCommands, TheIndexedJobsNodesMeetTheCoordinatorSideAndRunToTheInProcessDigest) {
  REQUIRE_KUBECTL();
  TempDir tmp("wafersim-k8s-oneshot");
  LoopbackCluster cluster(renderObjects("oneshot", tmp));
  const YAML::Node settings = named(cluster.objects(), "ConfigMap", "wafersim-oneshot");
  const int nodes = std::stoi(str(settings["data"]["NODES"]));
  ASSERT_GE(nodes, 2);
  const size_t coordinator = cluster.addPods("Job", "wafersim-oneshot-coordinator", 1).at(0);
  const auto ranks = cluster.addPods("Job", "wafersim-oneshot-nodes", nodes);
  // The Job controller's part: each pod of an Indexed Job gets its index.
  for (size_t i = 0; i < ranks.size(); ++i)
    cluster.pod(ranks[i]).extraEnv.push_back("JOB_COMPLETION_INDEX=" + std::to_string(i));
  // Pods start in any order: the nodes first here, so they wait for the coordinator side's name.
  for (size_t i : ranks) cluster.start(cluster.pod(i));
  cluster.start(cluster.pod(coordinator));
  PodRun& side = cluster.pod(coordinator);
  ASSERT_TRUE(pollUntil(120s, [&] { return !side.process->running(); })) << side.process->log();
  EXPECT_EQ(exitStatus(side.process->pid()), 0) << side.process->log();
  EXPECT_THAT(side.process->log(), HasSubstr("waiting for " + std::to_string(nodes) + " nodes"));
  for (size_t i : ranks) {
    PodRun& node = cluster.pod(i);
    ASSERT_TRUE(pollUntil(30s, [&] { return !node.process->running(); })) << node.name << ": " << node.process->log();
    EXPECT_EQ(exitStatus(node.process->pid()), 0) << node.name << ": " << node.process->log();
  }
  // The results folder on the results volume, and the digest of the same scenario in one process.
  const std::filesystem::path results = cluster.mapPaths("/results/" + side.name, side);
  const auto summary = nlohmann::json::parse(fileText(std::filesystem::path(results) / "summary.json"));
  const std::filesystem::path scenario = cluster.mapPaths(str(settings["data"]["SCENARIO"]), side);
  const CommandOutput local = runCommand(shellQuoted(binaryPath("cli/wafersim")) + " run " + shellQuoted(scenario) +
                                         " --no-progress --out " + shellQuoted(tmp / "local"));
  ASSERT_EQ(local.code, 0) << local.text;
  EXPECT_EQ(summary.value("digest", "?"),
            nlohmann::json::parse(fileText(tmp / "local/summary.json")).value("digest", "!"));
  const auto report = nlohmann::json::parse(fileText(std::filesystem::path(results) / "run.json"));
  EXPECT_EQ(report["partitions"].size(), static_cast<size_t>(nodes)) << "one partition per rank";
}

TEST(KubernetesCommands, TheServicesContainersAnswerTheirProbesRegisterAndRunASweep) {
  REQUIRE_KUBECTL();
  TempDir tmp("wafersim-k8s-service");
  LoopbackCluster cluster(renderObjects("overlays/local", tmp));
  const int replicas = named(cluster.objects(), "Deployment", "wafersim-node")["spec"]["replicas"].as<int>();
  const size_t coordinator = cluster.addPods("Deployment", "wafersim-coordinator", 1).at(0);
  const size_t placement = cluster.addPods("Deployment", "wafersim-placement", 1).at(0);
  const auto nodes = cluster.addPods("Deployment", "wafersim-node", replicas);
  cluster.start(cluster.pod(coordinator));
  cluster.start(cluster.pod(placement));
  for (size_t i : nodes) cluster.start(cluster.pod(i));
  for (size_t i = 0; i < 2 + nodes.size(); ++i) {
    const std::string problem = cluster.probesAnswer(cluster.pod(i), 30s);
    EXPECT_TRUE(problem.empty()) << problem;
  }
  // Every pool node under its pod's name, and the placement service at the advertised endpoint.
  const int api = cluster.pod(coordinator).ports.at(8080);
  nlohmann::json registered;
  ASSERT_TRUE(pollUntil(30s, [&] {
    const auto [code, body] = httpGet(api, "/api/v1/nodes");
    if (code != 200) return false;
    registered = nlohmann::json::parse(body);
    return registered["nodes"].size() == static_cast<size_t>(replicas) && !registered["placement"].is_null();
  })) << registered.dump();
  std::set<std::string> names;
  for (const auto& n : registered["nodes"]) names.insert(n.value("name", ""));
  for (size_t i : nodes) EXPECT_TRUE(names.count(cluster.pod(i).name)) << registered.dump();
  const YAML::Node placementContainer = cluster.pod(placement).pod["spec"]["containers"][0];
  EXPECT_THAT(registered["placement"].dump(),
              HasSubstr(cluster.environment(cluster.pod(placement), placementContainer)["WAFERSIM_PLACEMENT_ADVERTISE"]));

  // As docs/deploy.md shows: `kubectl exec deploy/wafersim-coordinator -- wafersim sweep ...`.
  PodRun& pod = cluster.pod(coordinator);
  const YAML::Node container = pod.pod["spec"]["containers"][0];
  std::string command = "env";
  for (const auto& [k, v] : cluster.environment(pod, container)) command += " " + shellQuoted(k + "=" + v);
  command += " " + shellQuoted(binaryPath("cli/wafersim")) + " sweep " +
             shellQuoted(cluster.mapPaths("/etc/wafersim/scenarios/phold-small.yaml", pod)) +
             " --grid simulation.seed=1,2 --watch";
  const CommandOutput sweep = runCommand("timeout 120 " + command);
  EXPECT_EQ(sweep.code, 0) << sweep.text << "\n" << pod.process->log();
  EXPECT_THAT(sweep.text, HasSubstr("SUCCEEDED 2"));
}

}  // namespace
}  // namespace wafersim::testing
