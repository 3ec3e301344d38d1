// Measures what docs/benchmarks.md records for the UI: how long the
// Leadership page takes to be ready (every widget drawn) over the demo's
// 7-day history, and how much JavaScript it ships, gzipped.
// Usage: node test/bench.mjs PATH_TO_BATCHLENS (make bench-ui runs it).
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const bin = process.argv[2];
if (!bin) {
  console.error("usage: node test/bench.mjs PATH_TO_BATCHLENS");
  process.exit(2);
}

const dist = new URL("../../internal/ui/dist/assets/", import.meta.url).pathname;
for (const f of await readdir(dist)) {
  const b = await readFile(dist + f);
  console.log(`${f}: ${(b.length / 1024).toFixed(1)} KiB, ${(gzipSync(b, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped`);
}

const demo = spawn(bin, ["demo", "--listen", "127.0.0.1:0", "--history", "7d", "--seed", "1"], { stdio: ["ignore", "pipe", "ignore"] });
const base = await new Promise((resolve, reject) => {
  let out = "";
  demo.stdout.on("data", (d) => {
    out += d;
    const m = out.match(/dashboards at (http:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  demo.on("exit", (c) => reject(new Error("demo exited " + c)));
});
const t0 = Date.now();
for (let i = 0; ; i++) {
  const ok = await fetch(base + "readyz").then((r) => r.ok, () => false);
  if (ok) break;
  if (i > 1200) throw new Error("demo not ready in 2 minutes");
  await new Promise((r) => setTimeout(r, 100));
}
console.log(`demo backfilled 7 days in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const range of ["24h", "7d"]) {
  const times = [];
  for (let i = 0; i < 7; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } }); // a cold cache every time
    const p = await ctx.newPage();
    await p.goto(`${base}?last=${range}`);
    await p.waitForSelector('body[data-ready="true"]');
    times.push(await p.evaluate(() => performance.getEntriesByName("batchlens-ready")[0].startTime));
    await ctx.close();
  }
  console.log(`Leadership last=${range}: ready in median ${median(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (7 cold loads at 1440 px)`);
}
await browser.close();
demo.kill("SIGTERM");
