// Rendering deploy/kubernetes with `kubectl kustomize` and reading what it gives, for the
// manifests' tests: whether this kubectl can render them, the rendered objects, and the pieces of
// a workload the tests look at (pod templates, a container's args and where its env comes from).
#pragma once

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "tests/deploy/deploy_support.h"

namespace wafersim::testing {

inline const std::filesystem::path kKubernetesDir = sourcePath("deploy/kubernetes");

// Why kubectl cannot render these kustomizations ("" when it can): absent, or a Kustomize older
// than v5 (Debian 12's kubernetes-client is kubectl 1.20 with Kustomize v2.0.3: no components,
// replacements or labels).
inline std::string kubectlProblem() {
  static const std::string problem = [] {
    if (onPath("kubectl").empty())
      return std::string("kubectl is not installed (kubectl >= 1.27, with Kustomize v5, is needed)");
    const CommandOutput out = runCommand("kubectl version --client");
    std::smatch m;
    if (!std::regex_search(out.text, m, std::regex("Kustomize Version: v(\\d+)")))
      return "kubectl reports no Kustomize version: " + out.text;
    if (std::stoi(m[1]) < 5)
      return "kubectl's Kustomize is v" + m[1].str() + "; these kustomizations need v5 (kubectl >= 1.27)";
    return std::string();
  }();
  return problem;
}

#define REQUIRE_KUBECTL()                                    \
  if (const std::string why = kubectlProblem(); why.empty()) { \
  } else                                                       \
    GTEST_SKIP() << why

struct Render {
  int code = -1;
  std::string errors;  // what kubectl printed on stderr
  std::string yaml;
  std::vector<YAML::Node> objects;
};

// `kubectl kustomize DIR`, parsed.
inline Render render(const std::filesystem::path& dir, const std::filesystem::path& out) {
  Render r;
  const CommandOutput run = runCommand("{ kubectl kustomize " + shellQuoted(dir) + " > " + shellQuoted(out) + "; }");
  r.code = run.code;
  r.errors = run.text;
  r.yaml = fileText(out);
  if (r.code == 0)
    for (const YAML::Node& doc : YAML::LoadAll(r.yaml))
      if (doc.IsMap()) r.objects.push_back(doc);
  return r;
}

inline std::string str(const YAML::Node& n) { return n && n.IsScalar() ? n.as<std::string>() : std::string(); }

inline std::vector<YAML::Node> ofKind(const std::vector<YAML::Node>& objects, const std::string& kind) {
  std::vector<YAML::Node> out;
  for (const auto& o : objects)
    if (str(o["kind"]) == kind) out.push_back(o);
  return out;
}

// The one object of a kind whose name starts with `name` (generated ConfigMaps carry a hash).
inline YAML::Node named(const std::vector<YAML::Node>& objects, const std::string& kind, const std::string& name) {
  for (const auto& o : ofKind(objects, kind)) {
    const std::string n = str(o["metadata"]["name"]);
    if (n == name || (kind == "ConfigMap" && n.rfind(name + "-", 0) == 0)) return o;
  }
  ADD_FAILURE() << "no " << kind << " " << name;
  return YAML::Node();
}

struct PodTemplate {
  std::string owner;  // "Deployment wafersim-node"
  YAML::Node object;  // the workload
  YAML::Node pod;     // spec.template
};

inline std::vector<PodTemplate> podTemplates(const std::vector<YAML::Node>& objects) {
  std::vector<PodTemplate> out;
  for (const auto& o : objects) {
    const std::string kind = str(o["kind"]);
    if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "Job")
      out.push_back({kind + " " + str(o["metadata"]["name"]), o, o["spec"]["template"]});
  }
  return out;
}

inline std::vector<std::string> args(const YAML::Node& container) {
  std::vector<std::string> out;
  for (const auto& a : container["args"]) out.push_back(a.as<std::string>());
  return out;
}

// The value after `flag` in a container's args ("" when absent).
inline std::string argAfter(const YAML::Node& container, const std::string& flag) {
  const auto a = args(container);
  const auto it = std::find(a.begin(), a.end(), flag);
  return it == a.end() || it + 1 == a.end() ? std::string() : *(it + 1);
}

// The downward-API field or ConfigMap key an env var of a container comes from ("" if neither).
inline std::string envSource(const YAML::Node& container, const std::string& name) {
  for (const auto& e : container["env"])
    if (str(e["name"]) == name) {
      const YAML::Node from = e["valueFrom"];
      if (!from) return "value:" + str(e["value"]);
      if (from["fieldRef"]) return "field:" + str(from["fieldRef"]["fieldPath"]);
      if (from["configMapKeyRef"])
        return "configmap:" + str(from["configMapKeyRef"]["name"]) + "/" + str(from["configMapKeyRef"]["key"]);
      return "";
    }
  return "";
}

inline bool containsLabels(const YAML::Node& labels, const YAML::Node& selector) {
  if (!labels || !selector || selector.size() == 0) return false;
  for (const auto& kv : selector)
    if (!labels[kv.first.as<std::string>()] || str(labels[kv.first.as<std::string>()]) != str(kv.second)) return false;
  return true;
}

}  // namespace wafersim::testing
