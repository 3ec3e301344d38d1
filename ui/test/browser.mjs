// Browser tests: playwright-core driving Debian's chromium against a running
// `batchlens demo` (started by internal/ui/browser_test.go, which `make
// test` runs). Usage: node test/browser.mjs BASE_URL SCREENSHOT_DIR
//
// Each check is named; the script runs them all, prints PASS/FAIL per check
// and exits 1 when any failed.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node test/browser.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
const url = (p) => new URL(p, base).toString();
await mkdir(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run"],
});
const WIDE = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

// page opens a fresh page that records script errors, dialogs and CSP
// violations: none may happen.
async function page(viewport = WIDE) {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const p = await ctx.newPage();
  p.problems = [];
  p.on("pageerror", (e) => p.problems.push("page error: " + e.message));
  p.on("dialog", (d) => { p.problems.push("dialog: " + d.message()); void d.dismiss(); });
  p.on("console", (m) => { if (m.type() === "error") p.problems.push("console error: " + m.text()); });
  return p;
}

async function open(p, path) {
  await p.goto(url(path));
  await ready(p);
}

async function ready(p) {
  await p.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
}

async function api(path) {
  const res = await fetch(url(path));
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.error}`);
  return body;
}

// A fixed range in the past: its numbers no longer change while the demo
// runs live, so the UI and the API can be compared exactly.
const end = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000);
const FIXED = `from=${new Date(end - 20 * 3_600_000).toISOString()}&to=${end.toISOString()}`;

// shown reads the number a [data-value] element shows, as the API would
// give it: "1,234" is 1234, "12.3%" is 12.3, "—" is null.
function parseShown(text) {
  if (text.trim() === "—") return null;
  return Number(text.replace(/[,%]/g, ""));
}
const expectShown = (v, unit) => (v === null ? null : unit === "%" ? Number(v.toFixed(1)) : v);

async function noProblems(p) {
  const flags = await p.evaluate(() => ({ pwned: window.__pwned, overflow: document.documentElement.scrollWidth - window.innerWidth }));
  assert.equal(flags.pwned, undefined, "hostile script ran");
  assert.ok(flags.overflow <= 0, `page is ${flags.overflow}px wider than the window`);
  assert.deepEqual(p.problems, []);
}

async function shot(p, name) {
  // At most 2400 px of the page, so that long tables do not make huge files.
  const { width } = p.viewportSize();
  const height = Math.min(2400, await p.evaluate(() => document.documentElement.scrollHeight));
  await p.screenshot({ path: `${shots}/${name}-${width}.png`, fullPage: true, clip: { x: 0, y: 0, width, height } });
}

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

check("leadership: 8 widgets, numbers equal the API's", async () => {
  const p = await page();
  await open(p, `/?${FIXED}`);
  const d = await api(`/api/v1/dashboards/leadership?${FIXED}`);
  const widgets = d.sections.flatMap((s) => s.widgets);
  assert.equal(widgets.length, 8);
  for (const w of widgets) {
    const text = await p.textContent(`[data-widget="${w.id}"] .card-value`);
    assert.equal(parseShown(text), expectShown(w.value, w.unit), `${w.id}: UI shows ${text}, API says ${w.value}`);
    assert.ok(await p.isVisible(`[data-widget="${w.id}"] .spark canvas`), `${w.id}: no sparkline`);
    assert.match(await p.textContent(`[data-widget="${w.id}"] .change`), /previous|no change/, `${w.id}: no comparison`);
  }
  await noProblems(p);
});

check("engineering: every widget shows a value or an explicit no-data state; numbers equal the API's", async () => {
  const p = await page();
  await open(p, `/engineering?${FIXED}`);
  const d = await api(`/api/v1/dashboards/engineering?${FIXED}`);
  for (const w of d.sections.flatMap((s) => s.widgets)) {
    const el = `[data-widget="${w.id}"]`;
    assert.equal(await p.locator(el).count(), 1, `${w.id}: not rendered`);
    if (!w.available) {
      assert.equal(await p.textContent(`${el} [data-state="no-data"]`), /cpu|memory|disk|network|storage|resources/.test(w.id) ? "No resource data yet" : "No data yet", w.id);
      continue;
    }
    if (w.kind === "value") {
      assert.equal(parseShown(await p.textContent(`${el} .card-value`)), expectShown(w.value, w.unit), w.id);
    } else if (w.kind === "timeseries") {
      // pods_bad_phase, and the detail section's breakdowns: a number per series.
      const names = Object.keys(w.values);
      assert.ok(names.length > 0, `${w.id}: the demo has data`);
      for (const s of names) assert.equal(parseShown(await p.textContent(`${el} [data-series="${s}"] [data-value]`)), w.values[s], `${w.id} ${s}`);
      assert.ok(await p.isVisible(`${el} canvas`), `${w.id}: chart`);
      if (w.id === "terminated_reasons") {
        // A reason's number links to the pods that ended with it.
        const key = names.includes("OOMKilled") ? "OOMKilled" : names[0];
        await p.click(`${el} [data-series="${key}"]`);
        await ready(p);
        assert.equal(Number(await p.getAttribute('[data-page="items"]', "data-total")), w.values[key], `${key} terminations`);
        assert.ok(Number(await p.getAttribute('[data-page="items"]', "data-count")) > 0);
        await p.goBack();
        await ready(p);
      }
    } else if (w.kind === "toplist") {
      const shown = await p.$$eval(`${el} .bar-num`, (els) => els.map((e) => e.textContent));
      assert.deepEqual(shown.map(parseShown), w.rows.map((r) => r.value), "top cronjobs");
      assert.ok(w.rows.length > 0, "demo has CronJobs");
      // The first row's number links to its runs: as many as it says.
      await p.click(`${el} a.bar-num >> nth=0`);
      await ready(p);
      assert.match(p.url(), /\/items\/leadership\/jobs\?.*cronjob=/);
      assert.equal(Number(await p.getAttribute('[data-page="items"]', "data-total")), w.rows[0].value, "top cronjob's runs");
      await p.goBack();
      await ready(p);
    } else if (w.kind === "events") {
      assert.equal(parseShown(await p.textContent(`${el} a.count`)), w.total, "events total");
      assert.equal(await p.locator(`${el} tbody tr`).count(), w.events.length, "event rows");
    }
  }
  await noProblems(p);
});

check("drill-down: Leadership OOM number → its pods → a pod's termination reason", async () => {
  const p = await page();
  await open(p, `/?${FIXED}`);
  const shown = parseShown(await p.textContent('[data-widget="pods_oom"] .card-value'));
  assert.ok(shown > 0, "demo has OOM kills");
  await p.click('[data-widget="pods_oom"]');
  await ready(p);
  assert.match(p.url(), /\/items\/leadership\/pods_oom\?/);
  const listed = await p.$eval('[data-page="items"]', (e) => [Number(e.dataset.total), Number(e.dataset.count)]);
  assert.deepEqual(listed, [shown, shown], "the list has exactly the pods behind the number");
  assert.equal(await p.locator("tbody tr").count(), shown);
  await shot(p, "items");
  await p.click("tbody tr:first-child td:first-child a");
  await ready(p);
  assert.match(p.url(), /\/pods\//);
  const reasons = await p.$$eval("table.attempts tbody tr td:nth-child(3)", (els) => els.map((e) => e.textContent));
  assert.ok(reasons.includes("OOMKilled"), `termination reasons ${reasons}`);
  assert.match(await p.textContent("table.attempts"), /137/, "exit code");
  await shot(p, "pod");
  // Up to its run, then its CronJob.
  await p.click(".crumbs a >> nth=1");
  await ready(p);
  assert.match(p.url(), /\/runs\//);
  assert.ok((await p.locator("ol.timeline li").count()) > 2, "run timeline");
  await shot(p, "run");
  await p.click(".crumbs a >> nth=0");
  await ready(p);
  assert.match(p.url(), /\/cronjobs\//);
  assert.ok((await p.locator("tbody tr").count()) > 0, "cronjob runs");
  await shot(p, "cronjob");
  await noProblems(p);
});

check("range and filters change the numbers and survive a reload", async () => {
  const p = await page();
  await open(p, "/");
  const jobs = async () => parseShown(await p.textContent('[data-widget="jobs"] .card-value'));
  const day = await jobs();
  await p.click('[data-range="1h"]');
  await ready(p);
  assert.match(p.url(), /last=1h/);
  const hour = await jobs();
  assert.ok(hour < day, `jobs in 1h (${hour}) < in 24h (${day})`);
  // A custom range, then a namespace filter.
  await p.click('button:text("Custom")');
  await p.fill('input[name="from"]', new Date(end - 20 * 3_600_000).toISOString().slice(0, 16));
  await p.fill('input[name="to"]', end.toISOString().slice(0, 16));
  await p.click('form.custom button[type="submit"]');
  await ready(p);
  assert.match(p.url(), /from=.*to=/);
  const all = await jobs();
  await p.fill('input[name="namespace"]', "fraud");
  await p.click('form.filters button[type="submit"]');
  await ready(p);
  assert.match(p.url(), /namespace=fraud/);
  const fraud = await jobs();
  assert.ok(fraud > 0 && fraud < all, `fraud's jobs ${fraud} are some of all ${all}`);
  const q = new URL(p.url()).search.slice(1);
  const d = await api(`/api/v1/dashboards/leadership?${q}`);
  assert.equal(fraud, d.sections[0].widgets.find((w) => w.id === "jobs").value, "filtered number is the API's");
  await p.selectOption('select[name="refresh"]', "5m");
  await ready(p);
  await p.reload();
  await ready(p);
  assert.equal(await jobs(), fraud, "same number after reload");
  assert.equal(await p.inputValue('input[name="namespace"]'), "fraud");
  assert.equal(await p.inputValue('select[name="refresh"]'), "5m");
  assert.match(p.url(), /refresh=5m/);
  await noProblems(p);
});

check("hostile text renders as text and breaks no layout", async () => {
  for (const viewport of [WIDE, PHONE]) {
    const p = await page(viewport);
    await open(p, "/pods/demo/hostile-pod");
    assert.match(await p.textContent("h1"), /<script>window.__pwned=1<\/script>WWWW/);
    assert.match(await p.textContent("table.attempts"), /<img src=x onerror/);
    assert.equal(await p.locator("main script, main img").count(), 0, "markup from data became elements");
    await noProblems(p);
    await open(p, "/runs/demo/hostile-run");
    await noProblems(p);
    await open(p, "/engineering?last=24h&namespace=hostile");
    assert.match(await p.textContent('[data-widget="events"]'), /<script>window.__pwned=1<\/script>/);
    await noProblems(p);
    await open(p, "/items/leadership/pods_oom?last=24h&namespace=hostile");
    assert.equal(await p.locator("tbody tr").count(), 1);
    await noProblems(p);
    await p.click("tbody tr td:nth-child(3) a"); // the CronJob named with markup
    await ready(p);
    assert.match(p.url(), /\/cronjobs\/demo\/hostile\//);
    await noProblems(p);
  }
});

check("screenshots of every page at 1440 and 390 px, light and dark; phones do not scroll sideways", async () => {
  const oom = await api(`/api/v1/dashboards/leadership/widgets/pods_oom/items?${FIXED}`);
  const pod = oom.pods[0];
  const pages = {
    leadership: `/?${FIXED}`,
    engineering: `/engineering?${FIXED}`,
    items: `/items/leadership/pods_oom?${FIXED}`,
    cronjob: `/cronjobs/${pod.cluster}/${pod.namespace}/${pod.cronjob}?${FIXED}`,
    run: `/runs/${pod.cluster}/${pod.job_uid}`,
    pod: `/pods/${pod.cluster}/${pod.uid}`,
  };
  for (const viewport of [WIDE, PHONE]) {
    const p = await page(viewport);
    for (const [name, path] of Object.entries(pages)) {
      await open(p, path);
      await noProblems(p);
      await shot(p, name);
    }
    await p.click("button.theme");
    await ready(p);
    await open(p, pages.leadership);
    assert.equal(await p.evaluate(() => document.documentElement.dataset.theme), "dark");
    await shot(p, "leadership-dark");
  }
});

check("auto-refresh fetches the numbers again, without a loading flash", async () => {
  const p = await page();
  await p.clock.install();
  let calls = 0;
  p.on("request", (r) => { if (r.url().includes("/api/v1/dashboards/leadership")) calls++; });
  await open(p, "/?last=1h&refresh=30s");
  const first = calls;
  assert.ok(first >= 1, "the page fetched its dashboard");
  await p.clock.runFor(29_000);
  assert.equal(calls, first, "no refresh before 30 s");
  await p.clock.runFor(2_000);
  // The page's timers are fake; wait for the second render with node's.
  const renders = () => p.evaluate(() => Number(document.body.dataset.renders));
  assert.equal(await renders(), 1);
  for (let i = 0; i < 100 && (await renders()) < 2; i++) {
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.ok(calls > first, "refreshed after 30 s");
  assert.equal(await renders(), 2, "drew the page again");
  assert.equal(await p.locator(".loading").count(), 0);
  await noProblems(p);
});

check("loading, empty and error states", async () => {
  const p = await page();
  // A slow API: the page says it is loading meanwhile.
  await p.route("**/api/v1/dashboards/**", async (r) => { await new Promise((ok) => setTimeout(ok, 700)); await r.continue(); });
  await p.goto(url("/"));
  assert.match(await p.textContent(".loading", { timeout: 500 }), /Loading/);
  await ready(p);
  await p.unroute("**/api/v1/dashboards/**");
  await open(p, "/items/leadership/pods_oom?last=15m&namespace=no-such-namespace");
  assert.match(await p.textContent(".empty"), /Nothing behind this number/);
  await open(p, "/?last=2h");
  assert.match(await p.textContent('[data-page="error"]'), /last/);
  await open(p, "/?from=not-a-time");
  assert.match(await p.textContent('[data-page="error"]'), /from/);
  await open(p, "/no/such/page");
  assert.match(await p.textContent('[data-page="error"]'), /No such page/);
  await open(p, "/pods/demo/no-such-pod");
  assert.match(await p.textContent('[data-page="error"]'), /not found/);
  p.problems = p.problems.filter((m) => !/status of 40[04]/.test(m)); // the browser logs the failed fetches
  await noProblems(p);
});

let failed = 0;
for (const { name, fn } of checks) {
  const t = Date.now();
  try {
    await fn();
    console.log(`PASS ${name} (${Date.now() - t} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name} (${Date.now() - t} ms)\n  ${String(err.stack ?? err).split("\n").slice(0, 6).join("\n  ")}`);
  }
}
await browser.close();
console.log(failed ? `${failed} of ${checks.length} browser checks failed` : `all ${checks.length} browser checks passed`);
process.exit(failed ? 1 : 0);
