// Polling without overlap: tick() runs, then the next one is scheduled interval ms after it
// settles; tick() answering false ends the loop. stop() ends it from outside (a view unmounted).
// The interval is the page's ?poll=MS (100 to 60000), else 1000 ms.

export function pollInterval() {
  const asked = Number(new URLSearchParams(window.location.search).get("poll"));
  return Number.isFinite(asked) && asked >= 100 && asked <= 60000 ? asked : 1000;
}

export class Poller {
  constructor(tick, intervalMs = pollInterval()) {
    this.tick = tick;
    this.interval = intervalMs;
    this.timer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.run();
  }

  // Runs a tick now (after an action such as Cancel) instead of at the next interval.
  poke() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.run();
  }

  async run() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    let more = true;
    try {
      more = (await this.tick()) !== false;
    } catch (e) {
      console.warn("poll failed:", e);
    }
    this.running = false;
    if (this.stopped) return;
    if (!more) {
      this.stopped = true;
      return;
    }
    if (this.again) {
      this.again = false;
      this.run();
      return;
    }
    this.timer = setTimeout(() => this.run(), this.interval);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
