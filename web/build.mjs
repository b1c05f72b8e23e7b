// Builds the live page and the report scripts into static files:
//   index.html            the live page (the coordinator serves it at /)
//   app.js, app.css       its bundle (served under /static/)
//   report.js, report.css the reports' bundle (wafersim report inlines them into each report)
// Usage: node build.mjs --out DIR [--modules DIR/node_modules]
// --modules names where `npm ci` put the packages (the build folder; the sources stay clean).
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const out = resolve(option("--out", join(here, "dist")));
const modules = resolve(option("--modules", join(here, "node_modules")));
const esbuild = createRequire(join(modules, "noop.js"))("esbuild");

mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { app: join(here, "src/live/main.js"), report: join(here, "src/report/main.js") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  nodePaths: [modules],
  logLevel: "warning",
});
copyFileSync(join(here, "src/index.html"), join(out, "index.html"));
console.log(`web: built ${out}`);
