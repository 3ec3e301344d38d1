// The Leadership and Engineering dashboards.
import { get, seg, type Dashboard, type Num, type TableRow, type Widget } from "./api";
import { lineChart, seriesColor, sparkline } from "./chart";
import { h } from "./dom";
import { apiParams, fmtNum, fmtTime, rangeLabel, search, type State } from "./state";
import { fmtValue } from "./units";
import { cronJobLink, empty, eventsTable, table } from "./views";

// After is work to do once the page is in the document: drawing charts,
// which need their box's width.
export type After = (() => unknown)[];

// Widgets whose number going up is good news; for the rest (failures,
// restarts, pending) up is bad, and for jobs it is neither.
const UP_IS_GOOD = new Set(["success_rate", "jobs_succeeded"]);
const NEUTRAL = new Set(["jobs"]);

// previousParams asks for the period of the same length just before s's,
// or is undefined when s's range is not one (the API says what is wrong).
function previousParams(s: State): URLSearchParams | undefined {
  const q = apiParams(s);
  let from: number, to: number;
  if (s.from) {
    from = Date.parse(s.from);
    to = s.to ? Date.parse(s.to) : Date.now();
  } else {
    const len = { "15m": 9e5, "1h": 36e5, "24h": 864e5, "7d": 7 * 864e5, "30d": 30 * 864e5 }[s.last] ?? 864e5;
    to = Date.now();
    from = to - len;
  }
  if (!(from < to)) return undefined;
  q.delete("last");
  q.set("from", new Date(from - (to - from)).toISOString());
  q.set("to", new Date(from).toISOString());
  return q;
}

export async function loadDashboard(id: string, s: State, compare: boolean): Promise<{ cur: Dashboard; prev?: Dashboard }> {
  const path = "/api/v1/dashboards/" + seg(id);
  const prevQ = compare ? previousParams(s) : undefined;
  const [cur, prev] = await Promise.all([
    get<Dashboard>(path, apiParams(s)),
    prevQ ? get<Dashboard>(path, prevQ).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  return { cur, prev };
}

function itemsHref(dash: string, widget: string, s: State, series = ""): string {
  return `/items/${seg(dash)}/${seg(widget)}${search(s, { series })}`;
}

// change describes cur against prev: a relative change for counts, points
// for percentages.
function change(w: Widget, cur: Num, prev: Num | undefined, s: State): HTMLElement {
  const label = " vs previous " + (s.from ? "period" : s.last);
  if (prev === undefined) return h("div.change", null, "");
  if (cur === null || prev === null) return h("div.change", null, "no comparison" + label);
  const d = cur - prev;
  let text: string;
  if (w.unit === "%") text = `${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(1)} pts`;
  else if (prev === 0) text = d === 0 ? "no change" : `+${fmtNum(d)} (from 0)`;
  else {
    const pct = Math.abs((100 * d) / prev);
    text = `${d >= 0 ? "+" : "−"}${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`;
  }
  const arrow = d > 0 ? "▲ " : d < 0 ? "▼ " : "";
  const good = NEUTRAL.has(w.id) || d === 0 ? "flat" : d > 0 === UP_IS_GOOD.has(w.id) ? "good" : "bad";
  return h(`div.change.${good}`, { title: `previous: ${fmtNum(prev, w.unit)}` }, arrow + text + label);
}

function valueCard(dash: string, w: Widget, prev: Widget | undefined, s: State, after: After): HTMLElement {
  const v = w.value ?? null;
  const spark = h("div.spark");
  const card = h(
    "a.card",
    { href: itemsHref(dash, w.id, s), "data-widget": w.id, title: w.description },
    h("div.card-title", null, w.title),
    h("div.card-value", { "data-value": v === null ? "null" : String(v) }, fmtNum(v, w.unit)),
    change(w, v, prev ? prev.value ?? null : undefined, s),
    spark,
  );
  const series = w.series?.[0];
  if (series) after.push(() => sparkline(spark, series));
  return card;
}

// noData stands for a widget that is not available: with the API's
// reason when it gives one (resource usage batchlens may not read).
function noData(w: Widget): HTMLElement {
  const resource = /cpu|memory|disk|network|storage|resources/.test(w.id);
  return h(
    "section.panel.nodata",
    { "data-widget": w.id },
    h("h2", null, w.title),
    w.reason
      ? h("p.unavailable", { "data-state": "unavailable", role: "note" }, w.reason)
      : h("p.empty", { "data-state": "no-data" }, resource ? "No resource data yet" : "No data yet"),
    h("p.desc", null, w.description),
  );
}

// usagePanel draws a resource usage widget in its unit, with a legend
// table: each series' figure over the range, its value under the cursor,
// and for by-pod widgets the pod's request and limit. CronJob series link
// to their CronJob (pods carry no uid here, so they do not link).
function usagePanel(w: Widget, s: State, after: After): HTMLElement {
  const series = w.series ?? [];
  const vals = w.values ?? {};
  const info = new Map((w.series_info ?? []).map((i) => [i.name, i]));
  const byPod = (w.series_info ?? []).some((i) => i.pod !== undefined);
  const showReq = byPod && (w.series_info ?? []).some((i) => "request" in i);
  const showLim = byPod && (w.series_info ?? []).some((i) => "limit" in i);
  const cursorCells: HTMLElement[] = [];
  const cursorHead = h("th", null, "At cursor");
  const rows = series.map((x, i) => {
    const si = info.get(x.name);
    const who = si && si.cronjob && !byPod ? cronJobLink(si.cluster, si.namespace, si.cronjob, s) : x.name || "(none)";
    const cur = h("td.num", null, "");
    cursorCells.push(cur);
    const v = vals[x.name] ?? null;
    const swatch = h("span.swatch");
    swatch.style.background = seriesColor(i); // CSSOM: allowed by the CSP
    return h(
      "tr",
      { "data-series": x.name },
      h("td", null, swatch, who),
      byPod ? h("td", null, si?.cronjob ? cronJobLink(si.cluster, si.namespace, si.cronjob, s) : "—") : null,
      h("td.num", null, h("span", { "data-value": v === null ? "null" : String(v) }, fmtValue(v, w.unit))),
      cur,
      showReq ? h("td.num", { "data-request": String(si?.request ?? "null") }, fmtValue(si?.request ?? null, w.unit)) : null,
      showLim ? h("td.num", { "data-limit": String(si?.limit ?? "null") }, fmtValue(si?.limit ?? null, w.unit)) : null,
    );
  });
  const chart = h("div.chart");
  if (series.length)
    after.push(() =>
      lineChart(chart, series, 200, {
        unit: w.unit,
        legend: false,
        limits: showLim ? series.map((x) => info.get(x.name)?.limit) : undefined,
        onCursor: (idx, u) => {
          const t = idx === null ? undefined : (u.data[0][idx] as number);
          cursorHead.textContent = t === undefined ? "At cursor" : fmtTime(new Date(t * 1000).toISOString());
          cursorCells.forEach((c, i) => {
            c.textContent = idx === null ? "" : fmtValue((u.data[i + 1][idx] as number | null | undefined) ?? null, w.unit);
          });
        },
      }),
    );
  return h(
    "section.panel.wide",
    { "data-widget": w.id, "data-unit": w.unit },
    h("h2", null, w.title, w.unit ? h("span.muted", null, " (" + w.unit + ")") : null),
    series.length
      ? h(
          "div.usage",
          null,
          chart,
          h("div.table-wrap", null, h("table.legend", null,
            h("thead", null, h("tr", null, h("th", null, byPod ? "Pod" : "CronJob"), byPod ? h("th", null, "CronJob") : null, h("th", null, "Whole range"), cursorHead,
              showReq ? h("th", null, "Request") : null, showLim ? h("th", { title: "Dashed in the chart" }, "Limit (dashed)") : null)),
            h("tbody", null, ...rows))),
        )
      : h("p.empty", { "data-state": "no-data" }, "No resource usage in this range."),
  );
}

// oomBadge flags a CronJob whose memory peaked over 90% of a limit.
export function oomBadge(r: TableRow): HTMLElement | null {
  if (!r.oom_risk) return null;
  const pct = r.cells.memory_peak_pct;
  return h("span.badge.bad.oom", { "data-oom-risk": "true", title: "A run peaked over 90% of a container's memory limit" },
    pct == null ? "OOM risk" : `OOM risk: peak memory ${fmtValue(pct, "%")} of limit`);
}

// resourcesTable is cronjob_resources: one row per CronJob, in the API's
// order, each cell in its column's unit.
function resourcesTable(w: Widget, s: State): HTMLElement {
  const cols = w.table?.columns ?? [];
  const rows = w.table?.rows ?? [];
  const clusters = new Set(rows.map((r) => r.cluster)).size > 1;
  return h(
    "section.panel.wide",
    { "data-widget": w.id },
    h("h2", null, w.title, " ", h("span.muted", null, `${fmtNum(rows.length)} CronJobs, most CPU first`)),
    rows.length
      ? h("div.table-wrap", null, h("table.resources", null,
          h("thead", null, h("tr", null, h("th", null, "CronJob"), h("th", null, "Namespace"), clusters ? h("th", null, "Cluster") : null,
            ...cols.map((c) => h("th.num", { "data-col": c.id, title: c.unit ? `${c.title} (${c.unit})` : c.title }, c.title)))),
          h("tbody", null, ...rows.map((r) =>
            h("tr", { class: r.oom_risk ? "risk" : undefined, "data-cronjob": `${r.cluster}/${r.namespace}/${r.cronjob}`, "data-oom-risk": String(r.oom_risk) },
              h("td.name", null, r.cronjob ? cronJobLink(r.cluster, r.namespace, r.cronjob, s) : h("span.muted", null, "(no CronJob)"),
                r.oom_risk ? h("span.badge.bad.oom", { title: `Peak memory ${fmtValue(r.cells.memory_peak_pct ?? null, "%")} of its limit` }, "OOM risk") : null),
              h("td", null, r.namespace),
              clusters ? h("td", null, r.cluster) : null,
              ...cols.map((c) => {
                const v = r.cells[c.id] ?? null;
                return h("td.num", { "data-col": c.id, "data-value": v === null ? "null" : String(v),
                  class: c.id === "memory_peak_pct" && v !== null && v > 90 ? "hot" : undefined }, fmtValue(v, c.unit));
              }),
            )))))
      : h("p.empty", { "data-state": "no-data" }, "No resource usage in this range."),
  );
}

// seriesPanel draws a widget's series, with each series' number (from
// values) linking to what it counts.
function seriesPanel(dash: string, w: Widget, s: State, after: After): HTMLElement {
  const series = w.series ?? [];
  const vals = w.values ?? {};
  const label = (name: string) =>
    w.id === "pods_bad_phase" ? (name === "Pending" ? "Pending now" : "Failed in range") : name || "(none)";
  const chart = h("div.chart");
  if (series.length) after.push(() => lineChart(chart, series));
  return h(
    "section.panel.wide",
    { "data-widget": w.id },
    h("h2", null, w.title),
    Object.keys(vals).length
      ? h("div.pair", null, ...series.filter((x) => x.name in vals).map((x) =>
          h("a.mini", { href: itemsHref(dash, w.id, s, x.name), "data-series": x.name },
            h("span", null, label(x.name)), h("strong", { "data-value": String(vals[x.name] ?? "null") }, fmtNum(vals[x.name] ?? null)))))
      : null,
    series.length ? chart : h("p.empty", { "data-state": "no-data" }, "Nothing in this range."),
  );
}

// bar is a number with a bar as long as its share of max.
// With href, the number links to what it counts.
export function bar(value: number, max: number, href?: string): HTMLElement {
  const fill = h("span.bar-fill");
  fill.style.width = ((100 * value) / Math.max(1, max)).toFixed(1) + "%"; // CSSOM: allowed by the CSP
  const num = href ? h("a.bar-num", { href, "data-value": String(value) }, fmtNum(value)) : h("span.bar-num", { "data-value": String(value) }, fmtNum(value));
  return h("span.bar", null, h("span.track", null, fill), num);
}

function topList(w: Widget, s: State): HTMLElement {
  const rows = (w.rows ?? []) as { cluster: string; namespace: string; cronjob: string; value: number }[];
  const max = Math.max(1, ...rows.map((r) => r.value));
  return h(
    "section.panel.wide",
    { "data-widget": w.id },
    h("h2", null, w.title),
    rows.length
      ? table(
          ["CronJob", "Namespace", "Runs"],
          rows.map((r) => [
            cronJobLink(r.cluster, r.namespace, r.cronjob, s),
            r.namespace,
            bar(r.value, max, `/items/leadership/jobs${search({ ...s, cluster: r.cluster, namespace: r.namespace, cronjob: r.cronjob })}`),
          ]),
        )
      : h("p.empty", { "data-state": "no-data" }, "No CronJob ran in this range."),
  );
}

function eventsPanel(dash: string, w: Widget, s: State): HTMLElement {
  const evs = w.events ?? [];
  return h(
    "section.panel.wide",
    { "data-widget": w.id },
    h("h2", null, w.title, " ", h("a.count", { href: itemsHref(dash, w.id, s), "data-value": String(w.total ?? 0) }, fmtNum(w.total ?? 0)), h("span.muted", null, " in range, latest shown")),
    evs.length ? h("div.scroll", null, eventsTable(evs, s)) : h("p.empty", { "data-state": "no-data" }, "No events in this range."),
  );
}

function genericTable(w: Widget): HTMLElement {
  const rows = w.rows ?? [];
  const cols = rows.length ? Object.keys(rows[0]) : [];
  return h(
    "section.panel.wide",
    { "data-widget": w.id },
    h("h2", null, w.title),
    rows.length ? table(cols, rows.map((r) => cols.map((c) => String(r[c] ?? "")))) : h("p.empty", { "data-state": "no-data" }, "No data in this range."),
  );
}

function widget(dash: string, w: Widget, prev: Widget | undefined, s: State, after: After): HTMLElement {
  if (!w.available) return noData(w);
  switch (w.kind) {
    case "value":
      return valueCard(dash, w, prev, s, after);
    case "toplist":
      return topList(w, s);
    case "events":
      return eventsPanel(dash, w, s);
    case "table":
      return w.table ? resourcesTable(w, s) : genericTable(w);
    case "timeseries":
      return w.series_info || w.unit ? usagePanel(w, s, after) : seriesPanel(dash, w, s, after);
  }
}

export function renderDashboard(d: Dashboard, prev: Dashboard | undefined, s: State, after: After): HTMLElement {
  const prevW = new Map<string, Widget>();
  for (const sec of prev?.sections ?? []) for (const w of sec.widgets) prevW.set(w.id, w);
  return h(
    "div.dashboard",
    { "data-dashboard": d.id },
    h("h1", null, d.title, h("span.sub", null, rangeLabel(s))),
    ...d.sections.map((sec) => {
      const values = sec.widgets.filter((w) => w.available && w.kind === "value");
      const others = sec.widgets.filter((w) => !(w.available && w.kind === "value"));
      return h(
        "section.section",
        { "data-section": sec.id },
        d.sections.length > 1 ? h("h2.section-title", null, sec.title) : null,
        values.length ? h("div.cards", null, ...values.map((w) => widget(d.id, w, prevW.get(w.id), s, after))) : null,
        others.length ? h("div.panels", null, ...others.map((w) => widget(d.id, w, prevW.get(w.id), s, after))) : null,
      );
    }),
    d.sections.every((sec) => sec.widgets.length === 0) ? empty("This dashboard has no widgets.") : null,
  );
}
