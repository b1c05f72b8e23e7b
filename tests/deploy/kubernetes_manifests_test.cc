// deploy/kubernetes/: Kustomize renders the service (base/, overlays/local), the one-shot recipe
// (oneshot/) and the overlay with the ServiceMonitor component; every rendered object validates
// offline against the Kubernetes API's schemas (deploy/kubernetes/validate: kubernetes-models from
// npm, installed into the build folder); and what the schemas cannot say holds: probes, resources
// and a non-root security context on every container, the image from the one images entry,
// selectors that select, Services whose ports exist, Prometheus annotations that name the served
// metrics port, pool nodes named by their pod and bound to its IP, and an Indexed Job of NODES
// ranks that meets its coordinator through the headless Service.
// Skips, saying why, when kubectl with Kustomize v5 (or node and npm, for the schemas) is absent.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "tests/deploy/kubernetes_render.h"

namespace wafersim::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// The four renders every test looks at, made once: base, the local overlay, the one-shot recipe
// and the local overlay with the ServiceMonitor component.
struct Renders {
  TempDir tmp{"wafersim-k8s"};
  std::map<std::string, Render> byName;
  Renders() {
    byName["base"] = render(kKubernetesDir / "base", tmp / "base.yaml");
    byName["overlays/local"] = render(kKubernetesDir / "overlays/local", tmp / "local.yaml");
    byName["oneshot"] = render(kKubernetesDir / "oneshot", tmp / "oneshot.yaml");
    // As docs/deploy.md says: uncomment the component in the overlay (here in a copy).
    std::filesystem::copy(kKubernetesDir, tmp / "with-servicemonitor", std::filesystem::copy_options::recursive);
    const std::filesystem::path overlay = tmp / "with-servicemonitor/overlays/local";
    std::string text = fileText(overlay / "kustomization.yaml");
    const std::string commented = "# components:\n#   - ../../components/servicemonitor\n";
    if (const auto at = text.find(commented); at != std::string::npos)
      text.replace(at, commented.size(), "components:\n  - ../../components/servicemonitor\n");
    writeText(overlay / "kustomization.yaml", text);
    byName["overlays/local+servicemonitor"] = render(overlay, tmp / "local-servicemonitor.yaml");
  }
  std::filesystem::path file(const std::string& name) const {
    static const std::map<std::string, std::string> files{{"base", "base.yaml"},
                                                          {"overlays/local", "local.yaml"},
                                                          {"oneshot", "oneshot.yaml"},
                                                          {"overlays/local+servicemonitor", "local-servicemonitor.yaml"}};
    return tmp / files.at(name);
  }
};

const Renders& renders() {
  static const Renders r;
  return r;
}

const std::vector<std::string> kRenderNames{"base", "overlays/local", "oneshot", "overlays/local+servicemonitor"};

TEST(KubernetesManifests, KustomizeRendersTheServiceTheOneShotRunAndTheServiceMonitor) {
  REQUIRE_KUBECTL();
  for (const auto& name : kRenderNames) {
    const Render& r = renders().byName.at(name);
    EXPECT_EQ(r.code, 0) << name << ": " << r.errors;
    EXPECT_THAT(r.errors, ::testing::Not(HasSubstr("eprecated"))) << name;
    EXPECT_GE(r.objects.size(), 6u) << name;
  }
  const auto& overlay = renders().byName.at("overlays/local").objects;
  for (const auto& o : overlay) {
    if (str(o["kind"]) != "Namespace") {
      EXPECT_EQ(str(o["metadata"]["namespace"]), "wafersim") << str(o["metadata"]["name"]);
    }
  }
  EXPECT_EQ(ofKind(renders().byName.at("overlays/local+servicemonitor").objects, "ServiceMonitor").size(), 1u);
  EXPECT_TRUE(ofKind(renders().byName.at("base").objects, "ServiceMonitor").empty()) << "the CRD may be absent";
}

// npm ci of deploy/kubernetes/validate into the build folder (once per lock file; tests in
// parallel take turns on a lock). Returns the node_modules folder, or why it could not.
std::pair<std::filesystem::path, std::string> validatorModules() {
  const std::filesystem::path source = kKubernetesDir / "validate";
  const std::filesystem::path work = binaryPath("deploy/kubernetes-validate");
  std::filesystem::create_directories(work);
  const int lock = ::open((work.string() + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock >= 0) ::flock(lock, LOCK_EX);
  std::string problem;
  const std::string wanted = fileText(source / "package-lock.json");
  if (fileText(work / "package-lock.json") != wanted || !std::filesystem::exists(work / "node_modules/.package-lock.json")) {
    std::filesystem::copy_file(source / "package.json", work / "package.json",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(source / "package-lock.json", work / "package-lock.json",
                               std::filesystem::copy_options::overwrite_existing);
    const CommandOutput out = runCommand("cd " + shellQuoted(work) +
                                         " && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error");
    if (out.code != 0) {
      std::filesystem::remove(work / "package-lock.json");
      problem = "npm ci in " + work.string() + " failed: " + out.text;
    }
  }
  if (lock >= 0) ::close(lock);
  return {work / "node_modules", problem};
}

#define REQUIRE_NODE()                                                                                  \
  if (!onPath("node").empty() && !onPath("npm").empty()) {                                              \
  } else                                                                                                \
    GTEST_SKIP() << "node and npm are not installed (Debian packages nodejs, npm; scripts/deps.sh installs " \
                  "them): they run the schema validator"

CommandOutput validate(const std::filesystem::path& modules, const std::vector<std::filesystem::path>& files) {
  std::string command = "node " + shellQuoted(kKubernetesDir / "validate/validate.mjs") + " --modules " + shellQuoted(modules);
  for (const auto& f : files) command += " " + shellQuoted(f);
  return runCommand(command);
}

TEST(KubernetesManifests, EveryRenderedObjectValidatesAgainstTheKubernetesApiSchemas) {
  REQUIRE_KUBECTL();
  REQUIRE_NODE();
  const auto [modules, problem] = validatorModules();
  ASSERT_TRUE(problem.empty()) << problem;
  size_t objects = 0;
  std::vector<std::filesystem::path> files;
  for (const auto& name : kRenderNames) {
    files.push_back(renders().file(name));
    objects += renders().byName.at(name).objects.size();
  }
  const CommandOutput out = validate(modules, files);
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr(std::to_string(objects) + " objects valid")) << out.text;
  EXPECT_THAT(out.text, HasSubstr("ServiceMonitor wafersim/wafersim: valid (monitoring.coreos.com/v1)"));
}

// The validator is not a rubber stamp: it refuses what an API server (with strict field
// validation) would.
TEST(KubernetesManifests, TheSchemaValidatorRefusesWhatTheApiServerWould) {
  REQUIRE_NODE();
  const auto [modules, problem] = validatorModules();
  ASSERT_TRUE(problem.empty()) << problem;
  TempDir tmp("wafersim-k8s-bad");
  writeText(tmp / "bad.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: misspelt
spec:
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
        - name: c
          image: wafersim:0.1.0
          livenessProb:
            httpGet: {path: /healthz, port: 8080}
          ports:
            - containerPort: "8080"
          resources:
            requests: {cpu: lots}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: not-indexed
spec:
  completionMode: Indexd
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: c
          image: wafersim:0.1.0
---
apiVersion: v1
kind: Service
metadata:
  name: Not_A_Dns_Label
spec:
  ports:
    - port: 80
---
apiVersion: apps/v1
kind: Deplyment
metadata:
  name: unknown-kind
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: good
data:
  key: value
)");
  const CommandOutput out = validate(modules, {tmp / "bad.yaml"});
  EXPECT_EQ(out.code, 1) << out.text;
  EXPECT_THAT(out.text, HasSubstr("/spec/template/spec/containers/0: unknown field \"livenessProb\""));
  EXPECT_THAT(out.text, HasSubstr("/spec/template/spec/containers/0/ports/0/containerPort must be integer"));
  EXPECT_THAT(out.text, HasSubstr("/spec/template/spec/containers/0/resources/requests/cpu must match format \"quantity\""));
  EXPECT_THAT(out.text, HasSubstr("/spec/completionMode must be equal to one of the allowed values"));
  EXPECT_THAT(out.text, HasSubstr("\"Not_A_Dns_Label\" is not a valid Service name"));
  EXPECT_THAT(out.text, HasSubstr("no schema for apiVersion \"apps/v1\" kind \"Deplyment\""));
  EXPECT_THAT(out.text, HasSubstr("ConfigMap good: valid (v1)"));
  EXPECT_THAT(out.text, HasSubstr("4 of 5 objects invalid"));
}

TEST(KubernetesManifests, EveryContainerHasProbesResourcesAndRunsAsNonRoot) {
  REQUIRE_KUBECTL();
  size_t containers = 0;
  for (const auto& name : kRenderNames)
    for (const auto& t : podTemplates(renders().byName.at(name).objects)) {
      const YAML::Node spec = t.pod["spec"];
      EXPECT_TRUE(spec["securityContext"]["runAsNonRoot"].as<bool>(false)) << t.owner;
      EXPECT_NE(spec["securityContext"]["runAsUser"].as<int>(0), 0) << t.owner;
      for (const auto& c : spec["containers"]) {
        ++containers;
        const std::string where = name + ": " + t.owner + " container " + str(c["name"]);
        std::set<std::string> portNames;
        std::set<int> portNumbers;
        for (const auto& p : c["ports"]) {
          portNames.insert(str(p["name"]));
          portNumbers.insert(p["containerPort"].as<int>());
        }
        for (const auto& [probe, path] : {std::pair<std::string, std::string>{"livenessProbe", "/healthz"},
                                          std::pair<std::string, std::string>{"readinessProbe", "/readyz"}}) {
          const YAML::Node get = c[probe]["httpGet"];
          ASSERT_TRUE(get) << where << ": no " << probe;
          EXPECT_EQ(str(get["path"]), path) << where << " " << probe;
          const std::string port = str(get["port"]);
          EXPECT_TRUE(portNames.count(port) || (std::isdigit(port[0]) && portNumbers.count(std::stoi(port))))
              << where << " " << probe << " port " << port << " is not a port of the container";
        }
        for (const std::string kind : {"requests", "limits"})
          for (const std::string resource : {"cpu", "memory"})
            EXPECT_TRUE(c["resources"][kind][resource]) << where << ": no resources." << kind << "." << resource;
        const YAML::Node security = c["securityContext"];
        EXPECT_FALSE(security["allowPrivilegeEscalation"].as<bool>(true)) << where;
        EXPECT_TRUE(security["readOnlyRootFilesystem"].as<bool>(false)) << where;
        std::vector<std::string> dropped;
        for (const auto& d : security["capabilities"]["drop"]) dropped.push_back(d.as<std::string>());
        EXPECT_THAT(dropped, Contains("ALL")) << where;
      }
    }
  EXPECT_GE(containers, 3u * 3 + 2);  // coordinator, node, placement in three renders; two one-shot containers
}

TEST(KubernetesManifests, EveryImageComesFromTheOneImagesEntry) {
  REQUIRE_KUBECTL();
  // Exactly one images: entry among every kustomization of deploy/kubernetes.
  std::vector<std::string> entries;
  YAML::Node entry;
  for (const auto& file : std::filesystem::recursive_directory_iterator(kKubernetesDir)) {
    if (file.path().filename() != "kustomization.yaml") continue;
    const YAML::Node k = YAML::LoadFile(file.path().string());
    for (const auto& image : k["images"]) {
      entries.push_back(std::filesystem::relative(file.path(), kKubernetesDir).string());
      entry = YAML::Node(image);
    }
  }
  ASSERT_EQ(entries, std::vector<std::string>{"components/image/kustomization.yaml"});
  EXPECT_EQ(str(entry["name"]), "wafersim");
  const std::string image = str(entry["newName"]) + ":" + str(entry["newTag"]);
  EXPECT_EQ(image, "wafersim:0.1.0");
  size_t seen = 0;
  for (const auto& name : kRenderNames)
    for (const auto& t : podTemplates(renders().byName.at(name).objects))
      for (const auto& c : t.pod["spec"]["containers"]) {
        EXPECT_EQ(str(c["image"]), image) << name << ": " << t.owner;
        ++seen;
      }
  EXPECT_GE(seen, 11u);
}

TEST(KubernetesManifests, SelectorsSelectTheirPodsAndServicesReachDeclaredPorts) {
  REQUIRE_KUBECTL();
  for (const auto& name : kRenderNames) {
    const auto& objects = renders().byName.at(name).objects;
    const auto templates = podTemplates(objects);
    for (const auto& t : templates) {
      if (str(t.object["kind"]) != "Job") {  // a Job's selector is the controller's own
        EXPECT_TRUE(containsLabels(t.pod["metadata"]["labels"], t.object["spec"]["selector"]["matchLabels"]))
            << name << ": " << t.owner << "'s selector does not select its pods";
      }
    }
    for (const auto& service : ofKind(objects, "Service")) {
      const std::string where = name + ": Service " + str(service["metadata"]["name"]);
      std::vector<const PodTemplate*> selected;
      for (const auto& t : templates)
        if (containsLabels(t.pod["metadata"]["labels"], service["spec"]["selector"])) selected.push_back(&t);
      ASSERT_FALSE(selected.empty()) << where << " selects no pod";
      for (const auto& port : service["spec"]["ports"]) {
        const std::string target = port["targetPort"] ? str(port["targetPort"]) : str(port["port"]);
        for (const PodTemplate* t : selected) {
          bool found = false;
          for (const auto& c : t->pod["spec"]["containers"])
            for (const auto& p : c["ports"])
              found = found || str(p["name"]) == target || str(p["containerPort"]) == target;
          EXPECT_TRUE(found) << where << " port " << str(port["name"]) << " targets " << target
                             << ", which " << t->owner << " does not declare";
        }
      }
    }
  }
}

TEST(KubernetesManifests, PrometheusAnnotationsNameTheServedMetricsPort) {
  REQUIRE_KUBECTL();
  for (const auto& name : kRenderNames)
    for (const auto& t : podTemplates(renders().byName.at(name).objects)) {
      const YAML::Node a = t.pod["metadata"]["annotations"];
      const std::string where = name + ": " + t.owner;
      EXPECT_EQ(str(a["prometheus.io/scrape"]), "true") << where;
      EXPECT_EQ(str(a["prometheus.io/path"]), "/metrics") << where;
      const std::string port = str(a["prometheus.io/port"]);
      bool declared = false, served = false;
      for (const auto& c : t.pod["spec"]["containers"]) {
        for (const auto& p : c["ports"]) declared = declared || str(p["containerPort"]) == port;
        // The process listens there: --metrics HOST:PORT, or the coordinator's --http HOST:PORT.
        for (const std::string flag : {"--metrics", "--http"}) served = served || argAfter(c, flag) == "0.0.0.0:" + port;
      }
      EXPECT_TRUE(declared) << where << ": annotated port " << port << " is not a container port";
      EXPECT_TRUE(served) << where << ": nothing serves /metrics on " << port;
    }
}

TEST(KubernetesManifests, PoolNodesRegisterWithTheCoordinatorUnderTheirPodNameOnTheirPodIp) {
  REQUIRE_KUBECTL();
  const auto& objects = renders().byName.at("overlays/local").objects;
  const YAML::Node settings = named(objects, "ConfigMap", "wafersim-settings");
  const YAML::Node coordinator = named(objects, "Deployment", "wafersim-coordinator");
  const YAML::Node node = named(objects, "Deployment", "wafersim-node")["spec"]["template"]["spec"]["containers"][0];
  const YAML::Node placement = named(objects, "Deployment", "wafersim-placement")["spec"]["template"]["spec"]["containers"][0];
  const YAML::Node coordinatorContainer = coordinator["spec"]["template"]["spec"]["containers"][0];

  EXPECT_THAT(args(node), Contains("--pool"));
  EXPECT_EQ(argAfter(node, "--name"), "$(POD_NAME)");
  EXPECT_EQ(envSource(node, "POD_NAME"), "field:metadata.name");
  EXPECT_EQ(argAfter(node, "--bind-host"), "$(POD_IP)");
  EXPECT_EQ(envSource(node, "POD_IP"), "field:status.podIP");
  EXPECT_EQ(argAfter(node, "--metrics"), "0.0.0.0:9471");
  EXPECT_EQ(str(node["envFrom"][0]["configMapRef"]["name"]), str(settings["metadata"]["name"]));
  EXPECT_EQ(str(placement["envFrom"][0]["configMapRef"]["name"]), str(settings["metadata"]["name"]));

  // WAFERSIM_COORDINATOR names the coordinator's Service at the port that reaches --control.
  const std::string control = argAfter(coordinatorContainer, "--control");
  ASSERT_THAT(control, ::testing::StartsWith("tcp://0.0.0.0:"));
  const std::string controlPort = control.substr(control.rfind(':') + 1);
  const YAML::Node service = named(objects, "Service", "wafersim-coordinator");
  std::string servicePort;
  for (const auto& p : service["spec"]["ports"])
    for (const auto& c : coordinatorContainer["ports"])
      if (str(p["targetPort"]) == str(c["name"]) && str(c["containerPort"]) == controlPort) servicePort = str(p["port"]);
  ASSERT_FALSE(servicePort.empty()) << "no Service port reaches the control socket";
  EXPECT_EQ(str(settings["data"]["WAFERSIM_COORDINATOR"]), "tcp://wafersim-coordinator:" + servicePort);

  // Runs reach the placement service at its Service, which reaches its --bind port.
  const std::string bind = argAfter(placement, "--bind");
  const YAML::Node placementService = named(objects, "Service", "wafersim-placement");
  std::string placementPort;
  for (const auto& p : placementService["spec"]["ports"])
    if (str(p["name"]) == "placement") placementPort = str(p["port"]);
  EXPECT_EQ(bind, "tcp://0.0.0.0:" + placementPort);
  EXPECT_EQ(str(settings["data"]["WAFERSIM_PLACEMENT_ADVERTISE"]), "tcp://wafersim-placement:" + placementPort);

  // The job store lives on the claim, with one writer at a time.
  EXPECT_EQ(coordinator["spec"]["replicas"].as<int>(), 1);
  EXPECT_EQ(str(coordinator["spec"]["strategy"]["type"]), "Recreate");
  const std::string data = argAfter(coordinatorContainer, "--data");
  std::string volume;
  for (const auto& m : coordinatorContainer["volumeMounts"])
    if (str(m["mountPath"]) == data) volume = str(m["name"]);
  std::string claim;
  for (const auto& v : coordinator["spec"]["template"]["spec"]["volumes"])
    if (str(v["name"]) == volume) claim = str(v["persistentVolumeClaim"]["claimName"]);
  EXPECT_EQ(claim, "wafersim-coordinator-data");
  EXPECT_TRUE(named(objects, "PersistentVolumeClaim", claim));

  // The overlay's replicas: entry sizes the pool.
  const YAML::Node overlay = YAML::LoadFile((kKubernetesDir / "overlays/local/kustomization.yaml").string());
  EXPECT_EQ(named(objects, "Deployment", "wafersim-node")["spec"]["replicas"].as<int>(),
            overlay["replicas"][0]["count"].as<int>());
}

// The one-shot recipe as the docs describe it, from a render of `oneshot` with NODES=n.
void expectOneShotRun(const std::vector<YAML::Node>& objects, int n) {
  const YAML::Node run = named(objects, "ConfigMap", "wafersim-oneshot");
  EXPECT_EQ(str(run["data"]["NODES"]), std::to_string(n));
  const YAML::Node nodes = named(objects, "Job", "wafersim-oneshot-nodes");
  EXPECT_EQ(str(nodes["spec"]["completionMode"]), "Indexed");
  EXPECT_EQ(nodes["spec"]["completions"].as<int>(), n);
  EXPECT_EQ(nodes["spec"]["parallelism"].as<int>(), n) << "every rank must run at once";
  EXPECT_EQ(str(nodes["spec"]["template"]["spec"]["restartPolicy"]), "Never");

  const YAML::Node coordinatorJob = named(objects, "Job", "wafersim-oneshot-coordinator");
  const YAML::Node coordinator = coordinatorJob["spec"]["template"]["spec"]["containers"][0];
  const auto a = args(coordinator);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a[0], "run");
  EXPECT_EQ(argAfter(coordinator, "--nodes"), "$(NODES)");
  EXPECT_EQ(envSource(coordinator, "NODES"), "configmap:" + str(run["metadata"]["name"]) + "/NODES");
  EXPECT_THAT(a, Contains("--no-launch"));
  const std::string listen = argAfter(coordinator, "--listen");
  ASSERT_THAT(listen, ::testing::StartsWith("tcp://0.0.0.0:"));
  const std::string port = listen.substr(listen.rfind(':') + 1);

  // The headless Service resolves to the coordinator pod, ready or not, at the listen port.
  const YAML::Node service = named(objects, "Service", "wafersim-oneshot");
  EXPECT_EQ(str(service["spec"]["clusterIP"]), "None");
  EXPECT_TRUE(service["spec"]["publishNotReadyAddresses"].as<bool>(false));
  EXPECT_TRUE(containsLabels(coordinatorJob["spec"]["template"]["metadata"]["labels"], service["spec"]["selector"]));
  EXPECT_FALSE(containsLabels(nodes["spec"]["template"]["metadata"]["labels"], service["spec"]["selector"]));
  bool servicePort = false;
  for (const auto& p : service["spec"]["ports"]) servicePort = servicePort || str(p["port"]) == port;
  EXPECT_TRUE(servicePort) << "the headless Service does not publish " << port;

  // Nodes: rank from JOB_COMPLETION_INDEX (no --node), the coordinator by the Service's name.
  const YAML::Node node = nodes["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(argAfter(node, "--coordinator"), "tcp://wafersim-oneshot:" + port);
  EXPECT_THAT(args(node), ::testing::Not(Contains("--node")));
  EXPECT_THAT(args(node), ::testing::Not(Contains("--pool")));
  EXPECT_EQ(argAfter(node, "--bind-host"), "$(POD_IP)");
  EXPECT_EQ(envSource(node, "POD_IP"), "field:status.podIP");
}

TEST(KubernetesManifests, TheIndexedJobRunsNodesRanksThatMeetTheCoordinatorThroughTheHeadlessService) {
  REQUIRE_KUBECTL();
  expectOneShotRun(renders().byName.at("oneshot").objects, 3);
}

// NODES is set in one place: changed there, the Job's completions and parallelism follow.
TEST(KubernetesManifests, TheOneShotNodeCountIsSetInOnePlace) {
  REQUIRE_KUBECTL();
  TempDir tmp("wafersim-k8s-nodes");
  std::filesystem::copy(kKubernetesDir, tmp / "kubernetes", std::filesystem::copy_options::recursive);
  const std::filesystem::path file = tmp / "kubernetes/oneshot/kustomization.yaml";
  std::string text = fileText(file);
  const auto at = text.find("NODES=3");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 7, "NODES=5");
  writeText(file, text);
  const Render r = render(tmp / "kubernetes/oneshot", tmp / "oneshot.yaml");
  ASSERT_EQ(r.code, 0) << r.errors;
  expectOneShotRun(r.objects, 5);
}

}  // namespace
}  // namespace wafersim::testing
