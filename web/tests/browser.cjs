// Headless Chromium for the page tests, through playwright-core (which never downloads a browser):
// the system's Chromium ($WAFERSIM_CHROMIUM, else /usr/bin/chromium) with a fresh profile folder,
// flags that work as root in a sandbox, console errors and page errors collected, bounded waits,
// screenshots named on stdout ("screenshot: PATH"), and a hard deadline for the whole driver.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

function playwright() {
  const modules = process.env.WAFERSIM_WEB_MODULES;
  return require(modules ? path.join(modules, "playwright-core") : "playwright-core");
}

// "--name value" pairs -> {name: value}; a repeated name keeps the last.
function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; ++i) {
    if (!argv[i].startsWith("--")) throw new Error(`unexpected argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
    ++i;
  }
  return out;
}

class Browser {
  static async launch() {
    const b = new Browser();
    b.profile = fs.mkdtempSync(path.join(os.tmpdir(), "wafersim-chromium-"));
    b.context = await playwright().chromium.launchPersistentContext(b.profile, {
      executablePath: process.env.WAFERSIM_CHROMIUM || "/usr/bin/chromium",
      headless: true,
      viewport: { width: 1360, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      timeout: 30000,
    });
    b.page = b.context.pages()[0] ?? (await b.context.newPage());
    b.errors = [];
    b.ignored = [];
    b.page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const where = msg.location()?.url ?? "";
      const text = `${msg.text()} (${where})`;
      if (b.allowed.some((re) => re.test(text))) b.ignored.push(text);
      else b.errors.push(`console: ${text}`);
    });
    b.page.on("pageerror", (e) => b.errors.push(`page error: ${e.message}`));
    b.allowed = [];
    return b;
  }

  // Console errors matching re are expected (a 404 the page handles); they are not failures.
  allow(re) {
    this.allowed.push(re);
  }

  async screenshot(dir, name) {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    await this.page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
    return file;
  }

  // Waits until fn(arg) is truthy in the page; the error names `what`.
  async until(what, fn, arg, timeout = 30000) {
    try {
      return await (await this.page.waitForFunction(fn, arg, { timeout, polling: 100 })).jsonValue();
    } catch (e) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    }
  }

  async close() {
    try {
      await this.context?.close();
    } finally {
      fs.rmSync(this.profile, { recursive: true, force: true });
    }
  }
}

// Runs body(browser) with a deadline; prints "ok" or the failure, screenshots a failure, closes the
// browser and exits with 0 or 1.
async function drive(name, deadlineMs, screenshots, body) {
  let browser = null;
  const timer = setTimeout(() => {
    console.error(`${name}: the driver's deadline of ${deadlineMs} ms passed`);
    Promise.resolve(browser?.close()).finally(() => process.exit(1));
  }, deadlineMs);
  let code = 0;
  try {
    browser = await Browser.launch();
    await body(browser);
    if (browser.errors.length) throw new Error(`errors in the page:\n  ${browser.errors.join("\n  ")}`);
    console.log(`${name}: ok`);
  } catch (e) {
    code = 1;
    console.error(`${name}: FAILED: ${e.message}`);
    if (browser?.page && screenshots) await browser.screenshot(screenshots, `${name}-failure.png`).catch(() => {});
  } finally {
    clearTimeout(timer);
    await browser?.close().catch(() => {});
  }
  process.exit(code);
}

module.exports = { Browser, drive, parseArgs };
