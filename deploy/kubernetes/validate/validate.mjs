// Validates Kubernetes manifests offline: every object of the given multi-document YAML files (what
// `kubectl kustomize` prints) against the Kubernetes API's own schemas, with no cluster and no
// network. The schemas are the JSON schemas of the Kubernetes OpenAPI document, compiled to
// validators by the npm package kubernetes-models (Kubernetes 1.31's API: types, required
// fields, enums, formats such as quantities), and @kubernetes-models/prometheus-operator for the
// ServiceMonitor CRD.
//
// The OpenAPI schemas leave unknown fields open (the API server prunes them, or refuses them with
// kubectl's --validate=strict); here they are errors, as with a strict client: a misspelt field
// (`livenessProb:`) is caught. Each object is wrapped in a proxy that records which fields the
// compiled validator reads; in an object whose schema names its fields (the validator read some
// of them) and is not a map (the validator did not list its keys), a field it never read is
// unknown. Objects the schema leaves free-form (never read) are not judged.
//
// Also checked, as the API server would: object names (DNS-1123 subdomain; Services and
// Namespaces DNS-1123 labels), label keys and values, and no two objects of one kind with one name
// in one namespace within a file.
//
// Usage: node validate.mjs --modules DIR FILE.yaml...
//   DIR: the node_modules folder where package.json's packages are installed (npm ci).
// Prints one line per object and a last line "N objects valid" or "N of M objects invalid";
// exits 0 when every object is valid, 1 when one is not, 2 on a usage or load error.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

function usage(message) {
  process.stderr.write(`validate.mjs: ${message}\nusage: node validate.mjs --modules DIR FILE.yaml...\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let modulesDir = "";
const files = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--modules") modulesDir = args[++i] ?? "";
  else files.push(args[i]);
}
if (!modulesDir) usage("--modules DIR is required");
if (files.length === 0) usage("no manifest file given");

// Resolves packages from DIR (the build folder's node_modules), not from beside this script.
const require = createRequire(path.join(path.resolve(modulesDir), "validate.cjs"));
const YAML = require("yaml");

// The model class of an apiVersion and kind, whose prototype.validate runs the compiled schema.
function modelOf(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const candidates =
    group === "monitoring.coreos.com"
      ? [`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`]
      : [`kubernetes-models/${group ? `${group}/` : ""}${version}/${kind}`];
  for (const id of candidates) {
    try {
      const module = require(id);
      if (typeof module[kind] === "function") return module[kind];
    } catch (e) {
      if (e.code !== "MODULE_NOT_FOUND" && e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw e;
    }
  }
  return null;
}

// A copy of `value` whose objects record the fields read (and whether their keys were listed).
function tracked(value, where, records) {
  if (Array.isArray(value)) return value.map((v, i) => tracked(v, `${where}/${i}`, records));
  if (value === null || typeof value !== "object") return value;
  const record = { where, keys: Object.keys(value), read: new Set(), listed: false };
  records.push(record);
  const target = {};
  for (const key of record.keys) target[key] = tracked(value[key], `${where}/${key}`, records);
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === "string") record.read.add(key);
      return Reflect.get(t, key, receiver);
    },
    has(t, key) {
      if (typeof key === "string") record.read.add(key);
      return Reflect.has(t, key);
    },
    ownKeys(t) {
      record.listed = true;
      return Reflect.ownKeys(t);
    },
  });
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelName = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkLabels(labels, where, problems) {
  if (!labels || typeof labels !== "object") return;
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf("/");
    const prefix = slash >= 0 ? key.slice(0, slash) : "";
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if ((prefix && (prefix.length > 253 || !dns1123Subdomain.test(prefix))) || !name || name.length > 63 ||
        !labelName.test(name))
      problems.push(`${where}: label key "${key}" is not a valid label name`);
    if (typeof value !== "string" || value.length > 63 || !labelName.test(value))
      problems.push(`${where}: label "${key}" value ${JSON.stringify(value)} is not a valid label value`);
  }
}

// The problems of one object (empty when it is valid).
function check(object) {
  const problems = [];
  const Model = modelOf(object.apiVersion, object.kind);
  if (!Model) return [`no schema for apiVersion ${JSON.stringify(object.apiVersion)} kind ${JSON.stringify(object.kind)}`];
  const records = [];
  const data = tracked(object, "", records);
  try {
    Model.prototype.validate.call(data);
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    for (const err of e.errors) problems.push(`${err.instancePath || "/"} ${err.message}`);
  }
  for (const r of records) {
    if (r.listed || r.read.size === 0) continue;
    for (const key of r.keys)
      if (!r.read.has(key)) problems.push(`${r.where || "/"}: unknown field "${key}"`);
  }
  const meta = object.metadata ?? {};
  const name = meta.name ?? "";
  const nameRule = ["Service", "Namespace"].includes(object.kind) ? dns1123Label : dns1123Subdomain;
  const nameLimit = ["Service", "Namespace"].includes(object.kind) ? 63 : 253;
  if (!name || name.length > nameLimit || !nameRule.test(name))
    problems.push(`/metadata/name ${JSON.stringify(name)} is not a valid ${object.kind} name`);
  checkLabels(meta.labels, "/metadata/labels", problems);
  checkLabels(object.spec?.template?.metadata?.labels, "/spec/template/metadata/labels", problems);
  return problems;
}

let total = 0;
let invalid = 0;
for (const file of files) {
  const seen = new Set();  // one file is one set of objects to apply
  let docs;
  try {
    docs = YAML.parseAllDocuments(readFileSync(file, "utf8"));
  } catch (e) {
    usage(`${file}: ${e.message}`);
  }
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      ++invalid;
      for (const e of doc.errors) console.log(`${file}: YAML: ${e.message}`);
      continue;
    }
    const object = doc.toJS();
    if (object === null || object === undefined) continue;  // an empty document
    ++total;
    const label = `${object.kind ?? "?"} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ""}${
      object.metadata?.name ?? "?"}`;
    const problems = typeof object === "object" && !Array.isArray(object) ? check(object) : ["not an object"];
    const key = `${object.apiVersion}|${object.kind}|${object.metadata?.namespace ?? ""}|${object.metadata?.name}`;
    if (seen.has(key)) problems.push("a second object of this kind with this name and namespace");
    seen.add(key);
    if (problems.length === 0) {
      console.log(`${file}: ${label}: valid (${object.apiVersion})`);
    } else {
      ++invalid;
      for (const p of problems) console.log(`${file}: ${label}: ${p}`);
    }
  }
}
console.log(invalid === 0 ? `${total} objects valid` : `${invalid} of ${total} objects invalid`);
process.exit(invalid === 0 ? 0 : 1);
