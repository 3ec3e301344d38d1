// The Leadership and Engineering dashboards.
import { get, seg, type Dashboard, type Num, type Widget } from "./api";
import { lineChart, sparkline } from "./chart";
import { h } from "./dom";
import { apiParams, fmtNum, rangeLabel, search, type State } from "./state";
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

function noData(w: Widget): HTMLElement {
  const resource = /cpu|memory|disk|network|storage|resources/.test(w.id);
  return h(
    "section.panel.nodata",
    { "data-widget": w.id },
    h("h2", null, w.title),
    h("p.empty", { "data-state": "no-data" }, resource ? "No resource data yet" : "No data yet"),
    h("p.desc", null, w.description),
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
      return genericTable(w);
    case "timeseries":
      return seriesPanel(dash, w, s, after);
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
