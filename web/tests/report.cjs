// A report written by `wafersim report` / `wafersim compare`, opened from disk (file://):
//   node report.cjs --file REPORT.html --out DIR --name NAME --runs N [--figures a,b,c] [--dropped d,e]
//                   [--dies N]
// Checks: the report draws with no console or page error; it shows N runs; every figure named in
// --figures is drawn (a canvas or an SVG in its section) and every one in --dropped is left out
// with a note; any other figure is drawn or left out with a note. Screenshot: DIR/NAME.png.
"use strict";
const path = require("node:path");
const { pathToFileURL } = require("node:url");
const { drive, parseArgs } = require("./browser.cjs");

const args = parseArgs(process.argv.slice(2));
for (const required of ["file", "out", "name", "runs"])
  if (!args[required]) {
    console.error(`report: --${required} is required`);
    process.exit(2);
  }
const list = (text) => (text ? text.split(",").filter(Boolean) : []);

drive(args.name, Number(args.deadline ?? 90000), args.out, async (b) => {
  const page = b.page;
  // Nothing may leave the file: a request to anywhere else is a failure.
  const outside = [];
  page.on("request", (r) => {
    if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) outside.push(r.url());
  });
  await page.goto(pathToFileURL(path.resolve(args.file)).href);
  await b.until("the report to finish drawing", () => document.body.dataset.rendered === "1" ||
    document.body.dataset.error !== undefined, undefined, 30000);
  const error = await page.evaluate(() => document.body.dataset.error);
  if (error) throw new Error(`the report failed to draw: ${error}`);
  if (outside.length) throw new Error(`the report asked the network for ${outside.join(", ")}`);

  const runs = await page.$$eval("[data-testid=summary-table] thead th", (ths) => ths.length - 1);
  if (runs !== Number(args.runs)) throw new Error(`the summary shows ${runs} runs, expected ${args.runs}`);

  const figures = await page.$$eval("section[data-figure]", (sections) => sections.map((s) => ({
    name: s.dataset.figure,
    dropped: s.dataset.dropped === "1",
    note: s.querySelector(".note")?.textContent ?? "",
    canvases: s.querySelectorAll("canvas").length,
    svgs: s.querySelectorAll("svg").length,
    tables: s.querySelectorAll("table").length,
  })));
  const byName = new Map(figures.map((f) => [f.name, f]));
  for (const f of figures) {
    const drawn = f.canvases + f.svgs + f.tables;
    if (!f.dropped && drawn === 0) throw new Error(`figure ${f.name} is empty`);
    if (f.dropped && !f.note) throw new Error(`figure ${f.name} is left out without a note`);
    console.log(`figure ${f.name}: ${f.dropped ? `left out (${f.note})` : `${f.canvases} canvas, ${f.svgs} svg, ${f.tables} table`}`);
  }
  for (const name of list(args.figures)) {
    const f = byName.get(name);
    if (!f) throw new Error(`no figure ${name} (have ${[...byName.keys()]})`);
    if (f.dropped) throw new Error(`figure ${name} was left out: ${f.note}`);
    if (f.canvases + f.svgs === 0) throw new Error(`figure ${name} has no canvas or svg`);
  }
  for (const name of list(args.dropped)) {
    if (!byName.get(name)?.dropped) throw new Error(`figure ${name} should have been left out`);
  }
  // The first run's wafer has one cell per die.
  if (args.dies) {
    const cells = await page.$$eval("[data-testid=wafer-0] [data-die]", (c) => c.length);
    if (cells !== Number(args.dies)) throw new Error(`wafer-0 has ${cells} die cells, expected ${args.dies}`);
  }
  await b.screenshot(args.out, `${args.name}.png`);
});
