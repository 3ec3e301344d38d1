// The drill-down pages: the items behind a number, a CronJob, a run, a pod.
import { get, seg, type CronJobDetail, type Dashboard, type Items, type PodDetail, type RunDetail, type KEvent, type TableRow, type Widget } from "./api";
import { bar, oomBadge } from "./dashboard";
import { fmtValue } from "./units";
import { h } from "./dom";
import { apiParams, fmtDuration, fmtNum, rangeLabel, rangeParams, search, type State } from "./state";
import {
  badge, cronJobLink, empty, when, eventsTable, kv, panel, podLink, podsTable, runLink, runsTable, table, timeline, type Moment,
} from "./views";

function crumbs(...parts: (Node | string)[]): HTMLElement {
  return h("nav.crumbs", { "aria-label": "breadcrumbs" }, ...parts.flatMap((p, i) => (i ? [h("span.sep", null, "›"), p] : [p])));
}

function dashLink(dash: string, s: State): HTMLElement {
  return h("a", { href: (dash === "engineering" ? "/engineering" : "/") + search(s) }, dash === "engineering" ? "Engineering" : "Leadership");
}

export async function itemsPage(dash: string, widget: string, series: string, s: State): Promise<HTMLElement> {
  const q = apiParams(s);
  if (series) q.set("series", series);
  const it = await get<Items>(`/api/v1/dashboards/${seg(dash)}/widgets/${seg(widget)}/items`, q);
  const n = it.kind === "runs" ? it.runs?.length ?? 0 : it.kind === "pods" ? it.pods?.length ?? 0 : it.events?.length ?? 0;
  const title = it.title + (series ? ` — ${series}` : "");
  const what = it.count_label !== it.kind ? `${fmtNum(it.total)} ${it.count_label} in ${fmtNum(n)} ${it.kind}` : `${fmtNum(it.total)} ${it.count_label}`;
  const filters = [it.filters.cluster && `cluster ${it.filters.cluster}`, it.filters.namespace && `namespace ${it.filters.namespace}`,
    it.filters.cronjob && `CronJob ${it.filters.cronjob}`].filter(Boolean).join(", ");
  let list: HTMLElement;
  if (it.kind === "runs") list = runsTable(it.runs ?? [], s);
  else if (it.kind === "pods") list = podsTable(it.pods ?? [], s);
  else list = eventsTable(it.events ?? [], s);
  return h(
    "div.page",
    { "data-page": "items", "data-total": String(it.total), "data-count": String(n) },
    crumbs(dashLink(dash, s), title),
    h("h1", null, title, h("span.sub", null, `${what} · ${rangeLabel(s)}${filters ? " · " + filters : ""}`)),
    it.truncated ? h("p.note", null, `Showing the latest ${fmtNum(n)}.`) : null,
    n ? list : empty(`Nothing behind this number in ${rangeLabel(s)}.`),
  );
}

// Resources is a CronJob's row of cronjob_resources, or why there is none.
type Resources = { widget: Widget; row?: TableRow } | { error: string };

// cronJobResources reads the CronJob's row of the Engineering dashboard's
// cronjob_resources over s's range; a failure is the panel's to show.
async function cronJobResources(cluster: string, namespace: string, name: string, s: State): Promise<Resources> {
  const q = rangeParams(s);
  q.set("cluster", cluster);
  q.set("namespace", namespace);
  q.set("cronjob", name);
  try {
    const d = await get<Dashboard>("/api/v1/dashboards/engineering", q);
    const widget = d.sections.flatMap((sec) => sec.widgets).find((w) => w.id === "cronjob_resources");
    if (!widget) return { error: "The Engineering dashboard has no cronjob_resources widget." };
    const row = widget.table?.rows.find((r) => r.cluster === cluster && r.namespace === namespace && r.cronjob === name);
    return { widget, row };
  } catch (err) {
    return { error: "Could not load resource usage: " + String((err as Error).message ?? err) };
  }
}

function resourcesPanel(res: Resources): HTMLElement {
  const body = (): (HTMLElement | null)[] => {
    if ("error" in res) return [h("p.error", { "data-state": "error" }, res.error)];
    const w = res.widget;
    if (!w.available)
      return [w.reason ? h("p.unavailable", { "data-state": "unavailable" }, w.reason) : empty("Resource usage is not available.")];
    if (!res.row) return [h("p.empty", { "data-state": "no-data" }, "No resource usage recorded for this CronJob in this range.")];
    const row = res.row;
    return [
      h("div.cards.resources-cards", null, ...(w.table?.columns ?? []).map((c) => {
        const v = row.cells[c.id] ?? null;
        return h("div.card", { "data-col": c.id, title: c.unit ? `${c.title} (${c.unit})` : c.title },
          h("div.card-title", null, c.title),
          h("div.card-value", { "data-value": v === null ? "null" : String(v), class: c.id === "memory_peak_pct" && v !== null && v > 90 ? "hot" : undefined },
            fmtValue(v, c.unit)));
      })),
    ];
  };
  return h("section.panel", { "data-panel": "resources" }, h("h2", null, "Resources"), ...body());
}

export async function cronJobPage(cluster: string, namespace: string, name: string, s: State): Promise<HTMLElement> {
  const [c, res] = await Promise.all([
    get<CronJobDetail>(`/api/v1/cronjobs/${seg(cluster)}/${seg(namespace)}/${seg(name)}`, rangeParams(s)),
    cronJobResources(cluster, namespace, name, s),
  ]);
  const maxReason = Math.max(1, ...c.failure_reasons.map((r) => r.count));
  const filtered = { ...s, cluster, namespace, cronjob: name };
  return h(
    "div.page",
    { "data-page": "cronjob" },
    crumbs(dashLink("engineering", s), "CronJob " + name),
    h("h1", null, name, "row" in res && res.row ? oomBadge(res.row) : null,
      h("span.sub", null, `CronJob in ${namespace} · cluster ${cluster} · ${rangeLabel(s)}`)),
    h(
      "div.cards",
      null,
      stat("Runs", fmtNum(c.runs_created), `/items/leadership/jobs${search(filtered)}`),
      stat("Succeeded", fmtNum(c.runs_succeeded), `/items/engineering/jobs_succeeded${search(filtered)}`),
      stat("Failed", fmtNum(c.runs_failed), `/items/engineering/jobs_failed${search(filtered)}`),
      stat("Success rate (runs)", fmtNum(c.success_rate, "%")),
    ),
    h("p.note", null, h("a", { href: "/engineering" + search(filtered) }, "Open the dashboards filtered to this CronJob")),
    resourcesPanel(res),
    panel(
      "Failures by reason",
      c.failure_reasons.length
        ? table(["Reason", "Failed runs"], c.failure_reasons.map((r) => [r.reason || "(unknown)", bar(r.count, maxReason)]))
        : empty("No failed runs in this range."),
    ),
    panel(`Runs (latest ${fmtNum(c.runs.length)})`, runsTable(c.runs, s, true)),
    panel("Events", eventsTable(c.events, s)),
  );
}

function stat(label: string, value: string, href?: string): HTMLElement {
  const body = [h("div.card-title", null, label), h("div.card-value", null, value)];
  return href ? h("a.card", { href }, ...body) : h("div.card", null, ...body);
}

// podStory is a pod's evidence: attempts, waits, restarts, as tables.
function podEvidence(d: PodDetail): HTMLElement[] {
  const out: HTMLElement[] = [];
  out.push(
    h("h3", null, "Container attempts"),
    d.terminations.length
      ? table(
          ["Container", "Attempt", "Reason", "Exit code", "Signal", "Started", "Finished", "Message / log tail"],
          d.terminations.map((t) => [
            t.container, t.attempt, badge(t.reason), t.exit_code, t.signal || "", when(t.started_at), when(t.finished_at),
            t.message ? h("pre.log", null, t.message) : h("span.muted", null, "none captured"),
          ]),
          "attempts",
        )
      : empty("No container ended yet."),
  );
  if (d.waits.length)
    out.push(
      h("h3", null, "Waiting"),
      table(["Container", "Before attempt", "Reason", "First seen", "Last seen", "Message"],
        d.waits.map((w) => [w.container, w.attempt, badge(w.reason), when(w.first_seen), when(w.last_seen), w.message])),
    );
  if (d.restarts.length)
    out.push(h("h3", null, "Restarts"), table(["Container", "Restart", "At"], d.restarts.map((r) => [r.container, r.index, when(r.at)])));
  return out;
}

// moments is the dated story of a pod, for the timeline.
function podMoments(d: PodDetail, withName: boolean): Moment[] {
  const p = d.pod;
  const who = withName ? (p.name || p.uid) + ": " : "";
  const m: Moment[] = [
    { at: p.created_at, what: who + "created" },
    { at: p.scheduled_at, what: who + "scheduled", detail: p.node ? "on " + p.node : "" },
    { at: p.started_at, what: who + "first container started" },
    { at: p.finished_at, what: who + (p.phase || "finished"), detail: p.reason, tone: p.phase === "Failed" ? "bad" : "ok" },
    { at: p.deleted_at, what: who + "deleted" },
  ];
  for (const t of d.terminations)
    m.push({ at: t.finished_at, what: `${who}${t.container} #${t.attempt} ended: ${t.reason || "?"}`, detail: `exit ${t.exit_code}`,
      tone: t.exit_code === 0 ? "ok" : "bad" });
  for (const w of d.waits) m.push({ at: w.first_seen, what: `${who}${w.container} waiting: ${w.reason}`, detail: w.message, tone: "warn" });
  for (const r of d.restarts) m.push({ at: r.at, what: `${who}${r.container} restart ${r.index}`, tone: "warn" });
  return m;
}

function eventMoments(evs: KEvent[]): Moment[] {
  return evs.map((e) => ({ at: e.time, what: `${e.involved_kind} event ${e.reason}`, detail: e.message, tone: e.type === "Warning" ? "warn" : "info" }) as Moment);
}

export async function runPage(cluster: string, uid: string, s: State): Promise<HTMLElement> {
  const d = await get<RunDetail>(`/api/v1/runs/${seg(cluster)}/${seg(uid)}`);
  const r = d.run;
  const moments: Moment[] = [
    { at: r.created_at, what: "run created" },
    { at: r.started_at, what: "run started" },
    { at: r.finished_at, what: "run " + (r.outcome || "finished"), detail: r.reason, tone: r.outcome === "Failed" ? "bad" : "ok" },
    ...d.pods.flatMap((p) => podMoments(p, true)),
    ...eventMoments(d.events),
  ];
  return h(
    "div.page",
    { "data-page": "run" },
    crumbs(r.cronjob ? cronJobLink(r.cluster, r.namespace, r.cronjob, s) : dashLink("engineering", s), "Run " + (r.name || r.uid)),
    h("h1", null, r.name || r.uid, " ", badge(r.outcome || "Running")),
    kv([
      ["CronJob", cronJobLink(r.cluster, r.namespace, r.cronjob, s)], ["Namespace", r.namespace], ["Cluster", r.cluster],
      ["Created", when(r.created_at)], ["Started", when(r.started_at)], ["Finished", when(r.finished_at)],
      ["Duration", fmtDuration(r.started_at ?? r.created_at, r.finished_at)], ["Pods succeeded / failed", `${r.succeeded} / ${r.failed}`],
      ["Failure reason", r.reason || "—"], ["Message", r.message || "—"],
    ]),
    panel(
      `Pods (${d.pods.length})`,
      ...(d.pods.length
        ? d.pods.map((p) =>
            h("article.pod", null, h("h3", null, podLink(p.pod, s), " ", badge(p.pod.phase), p.pod.reason ? " " + p.pod.reason : ""), ...podEvidence(p)),
          )
        : [empty("No pods recorded for this run.")]),
    ),
    panel("Timeline", timeline(moments)),
    panel("Events", eventsTable(d.events, s)),
  );
}

export async function podPage(cluster: string, uid: string, s: State): Promise<HTMLElement> {
  const d = await get<PodDetail>(`/api/v1/pods/${seg(cluster)}/${seg(uid)}`);
  const p = d.pod;
  return h(
    "div.page",
    { "data-page": "pod" },
    crumbs(
      p.cronjob ? cronJobLink(p.cluster, p.namespace, p.cronjob, s) : dashLink("engineering", s),
      d.run ? runLink(d.run, s) : p.job_name || "no run",
      "Pod " + (p.name || p.uid),
    ),
    h("h1", null, p.name || p.uid, " ", badge(p.phase)),
    kv([
      ["Run", d.run ? runLink(d.run, s) : p.job_name || "—"], ["CronJob", cronJobLink(p.cluster, p.namespace, p.cronjob, s)],
      ["Namespace", p.namespace], ["Cluster", p.cluster], ["Node", p.node || "—"],
      ["Created", when(p.created_at)], ["Pending until", when(p.pending_until)], ["Finished", when(p.finished_at)],
      ["Reason", p.reason || "—"], ["Message", p.message || "—"],
    ]),
    panel("Evidence", ...podEvidence(d)),
    panel("Timeline", timeline([...podMoments(d, false), ...eventMoments(d.events ?? [])])),
    panel("Events", eventsTable(d.events ?? [], s)),
  );
}
