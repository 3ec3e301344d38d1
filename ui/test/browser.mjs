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
const hostile = `<img src=x onerror="window.__pwned=1">`;
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

// fmtUnit is how the UI must show v in unit: cores with 2 decimals, bytes
// in binary units with one decimal, counts with separators.
function fmtUnit(v, unit) {
  if (v === null || v === undefined) return "—";
  if (unit === "%") return v.toFixed(1) + "%";
  if (unit === "cores") return v.toFixed(2) + " cores";
  if (unit === "bytes" || unit === "bytes/s") {
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    const i = v < 1024 ? 0 : Math.min(units.length - 1, Math.floor(Math.log(v) / Math.log(1024)));
    const n = i === 0 ? String(Math.round(v)) : (v / 1024 ** i).toFixed(1);
    return `${n} ${units[i]}${unit === "bytes/s" ? "/s" : ""}`;
  }
  return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

// checkUsage: a resource usage widget draws its chart and lists every
// series with its figure over the range (and a pod's request and limit) as
// the API gives them, in the widget's unit.
async function checkUsage(p, w) {
  const el = `[data-widget="${w.id}"]`;
  const names = w.series.map((x) => x.name);
  if (!names.length) {
    assert.equal(await p.textContent(`${el} [data-state="no-data"]`), "No resource usage in this range.", w.id);
    return;
  }
  assert.ok(await p.isVisible(`${el} canvas`), `${w.id}: chart`);
  const shown = await p.$$eval(`${el} tr[data-series]`, (els) => els.map((e) => e.dataset.series));
  assert.deepEqual(shown, names, `${w.id}: series in the API's order`);
  for (const name of names) {
    const row = `${el} tr[data-series="${name}"]`;
    const v = w.values[name] ?? null;
    const cell = p.locator(`${row} [data-value]`);
    assert.equal(JSON.parse(await cell.getAttribute("data-value")), v, `${w.id} ${name}`);
    assert.equal(await cell.textContent(), fmtUnit(v, w.unit), `${w.id} ${name} shown`);
    const info = w.series_info.find((i) => i.name === name);
    if (info && "limit" in info) assert.equal(await p.textContent(`${row} [data-limit]`), fmtUnit(info.limit, w.unit), `${w.id} ${name} limit`);
    if (info && "request" in info) assert.equal(await p.textContent(`${row} [data-request]`), fmtUnit(info.request, w.unit), `${w.id} ${name} request`);
    if (info && info.cronjob && !info.pod) {
      const href = new URL(await p.getAttribute(`${row} a`, "href"), base).pathname;
      assert.equal(href, `/cronjobs/${encodeURIComponent(info.cluster)}/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.cronjob)}`,
        `${w.id} ${name} links to its CronJob`);
    }
  }
}

// checkResources: cronjob_resources shows the API's rows in its order,
// every cell equal to the API's and formatted in its column's unit, and
// an OOM-risk badge on exactly the rows at risk.
async function checkResources(p, w) {
  const el = `[data-widget="${w.id}"]`;
  const rows = w.table.rows;
  assert.ok(rows.length > 0, "the demo has resource usage");
  const shown = await p.$$eval(`${el} tbody tr`, (els) => els.map((e) => e.dataset.cronjob));
  assert.deepEqual(shown, rows.map((r) => `${r.cluster}/${r.namespace}/${r.cronjob}`), "rows in the API's order");
  const cells = await p.$$eval(`${el} tbody tr`, (trs) => trs.map((tr) =>
    Object.fromEntries([...tr.querySelectorAll("td[data-col]")].map((td) => [td.dataset.col, [JSON.parse(td.dataset.value), td.textContent]]))));
  const risky = await p.$$eval(`${el} tbody tr`, (trs) => trs.map((tr) => tr.querySelector(".badge.oom")?.textContent ?? ""));
  rows.forEach((r, i) => {
    for (const c of w.table.columns) {
      const v = r.cells[c.id] ?? null;
      assert.deepEqual(cells[i][c.id], [v, fmtUnit(v, c.unit)], `${r.namespace}/${r.cronjob} ${c.id}`);
    }
    assert.equal(risky[i], r.oom_risk ? "OOM risk" : "", `${r.namespace}/${r.cronjob} OOM risk`);
  });
}

// shotAt takes a window's worth of the page from the element sel on,
// under the sticky header.
async function shotAt(p, sel, name) {
  await p.evaluate((sel) => {
    const top = document.querySelector(sel).getBoundingClientRect().top + window.scrollY;
    window.scrollTo(0, top - document.querySelector("header.top").getBoundingClientRect().height - 8);
  }, sel);
  await p.screenshot({ path: `${shots}/${name}-${p.viewportSize().width}.png` });
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
      if (w.reason) assert.equal(await p.textContent(`${el} [data-state="unavailable"]`), w.reason, w.id);
      else assert.equal(await p.textContent(`${el} [data-state="no-data"]`), /cpu|memory|disk|network|storage|resources/.test(w.id) ? "No resource data yet" : "No data yet", w.id);
      continue;
    }
    if (w.series_info) {
      await checkUsage(p, w);
    } else if (w.table) {
      await checkResources(p, w);
    } else if (w.kind === "value") {
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

check("resources: fraud/rules-backtest, whose memory creeps to its limit, is flagged in the table and on its page", async () => {
  const p = await page();
  await open(p, `/engineering?${FIXED}`);
  const d = await api(`/api/v1/dashboards/engineering?${FIXED}`);
  const w = d.sections.flatMap((s) => s.widgets).find((x) => x.id === "cronjob_resources");
  const r = w.table.rows.find((x) => x.namespace === "fraud" && x.cronjob === "rules-backtest");
  assert.ok(r, "rules-backtest has a row");
  assert.ok(r.oom_risk && r.cells.memory_peak_pct > 90, `rules-backtest peaks at ${r.cells.memory_peak_pct}% of its limit`);
  const row = `[data-widget="cronjob_resources"] tr[data-cronjob="${r.cluster}/fraud/rules-backtest"]`;
  assert.equal(await p.textContent(`${row} .badge.oom`), "OOM risk");
  await shotAt(p, '[data-widget="cronjob_resources"]', "resources");
  await shotAt(p, '[data-widget="memory_by_pod"]', "usage");
  await p.click(`${row} td.name a`);
  await ready(p);
  assert.match(p.url(), /\/cronjobs\/demo\/fraud\/rules-backtest\?/);
  // The page asks for the CronJob alone; its row must be the API's.
  const one = await api(`/api/v1/dashboards/engineering?${FIXED}&cluster=${r.cluster}&namespace=fraud&cronjob=rules-backtest`);
  const mine = one.sections.flatMap((s) => s.widgets).find((x) => x.id === "cronjob_resources").table.rows
    .find((x) => x.namespace === "fraud" && x.cronjob === "rules-backtest");
  assert.equal(await p.textContent("h1 .badge.oom"), `OOM risk: peak memory ${mine.cells.memory_peak_pct.toFixed(1)}% of limit`);
  for (const c of w.table.columns) {
    const card = `[data-panel="resources"] [data-col="${c.id}"] .card-value`;
    const v = mine.cells[c.id] ?? null;
    assert.equal(JSON.parse(await p.getAttribute(card, "data-value")), v, c.id);
    assert.equal(await p.textContent(card), fmtUnit(v, c.unit), `${c.id} shown`);
  }
  await shot(p, "cronjob-resources");
  // A CronJob under every limit has its numbers and no flag.
  const calm = w.table.rows.find((x) => !x.oom_risk && x.cronjob);
  assert.ok(calm, "the demo has a CronJob without OOM risk");
  await open(p, `/cronjobs/${calm.cluster}/${calm.namespace}/${calm.cronjob}?${FIXED}`);
  assert.equal(await p.locator("h1 .badge.oom").count(), 0);
  assert.ok((await p.locator('[data-panel="resources"] .card').count()) === w.table.columns.length);
  await noProblems(p);
});

check("unavailable resource usage shows the API's reason, as text", async () => {
  // The demo can always read its simulated kubelets; the API's contract for
  // when batchlens may not (available false, a reason) is played by
  // rewriting its real answers. The reason carries markup, which must stay text.
  const reason = `resource usage unavailable: nodes/proxy is forbidden ${hostile}`;
  const p = await page();
  const usage = new Set(["cronjob_resources", "cpu_by_cronjob", "memory_by_cronjob", "disk_by_cronjob", "network_by_cronjob",
    "network_errors_by_cronjob", "cpu_by_pod", "memory_by_pod", "ephemeral_storage_by_pod", "network_by_pod", "network_errors_by_pod"]);
  await p.route((u) => u.pathname === "/api/v1/dashboards/engineering", async (route) => {
    const res = await route.fetch();
    const d = await res.json();
    for (const sec of d.sections)
      sec.widgets = sec.widgets.map((w) => usage.has(w.id)
        ? { id: w.id, title: w.title, kind: w.kind, unit: w.unit, description: w.description, available: false, reason }
        : w);
    await route.fulfill({ response: res, json: d });
  });
  await open(p, `/engineering?${FIXED}`);
  for (const id of usage) {
    assert.equal(await p.textContent(`[data-widget="${id}"] [data-state="unavailable"]`), reason, id);
  }
  assert.equal(await p.locator("main img").count(), 0, "markup from a reason became elements");
  await open(p, `/cronjobs/demo/fraud/rules-backtest?${FIXED}`);
  assert.equal(await p.textContent('[data-panel="resources"] [data-state="unavailable"]'), reason);
  assert.equal(await p.locator("h1 .badge.oom").count(), 0);
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
  // (Counted before the clock passes 30 s: the refresh may be drawn at once.)
  const renders = () => p.evaluate(() => Number(document.body.dataset.renders));
  assert.equal(await renders(), 1);
  await p.clock.runFor(2_000);
  // The page's timers are fake; wait for the second render with node's.
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
