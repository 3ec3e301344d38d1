// Building blocks shared by the pages: links, tables of runs, pods and
// events, key/value lists, empty states.
import { h } from "./dom";
import { seg, type KEvent, type Pod, type Run } from "./api";
import { fmtDuration, fmtTime, search, type State } from "./state";

type Cell = Node | string | number | null | undefined;

// table renders rows under headers, scrolling sideways inside its own box
// on narrow screens rather than widening the page.
export function table(headers: string[], rows: Cell[][], cls = ""): HTMLElement {
  return h(
    "div.table-wrap",
    null,
    h(
      "table",
      { class: cls || undefined },
      h("thead", null, h("tr", null, ...headers.map((t) => h("th", null, t)))),
      h("tbody", null, ...rows.map((r) => h("tr", null, ...r.map((c) => h("td", null, c ?? ""))))),
    ),
  );
}

// when shows a time, kept on one line.
export function when(t?: string): HTMLElement {
  return h("time", { datetime: t }, fmtTime(t));
}

export function empty(text: string): HTMLElement {
  return h("p.empty", null, text);
}

export function panel(title: string, ...children: (Node | null | false)[]): HTMLElement {
  return h("section.panel", null, h("h2", null, title), ...children);
}

// kv renders label/value pairs.
export function kv(pairs: [string, Cell][]): HTMLElement {
  return h("dl.kv", null, ...pairs.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v ?? "—")]));
}

export function runLink(r: { cluster: string; uid: string; name: string }, s: State): HTMLElement {
  return h("a", { href: `/runs/${seg(r.cluster)}/${seg(r.uid)}${search(s)}` }, r.name || r.uid);
}

export function podLink(p: { cluster: string; uid: string; name: string }, s: State): HTMLElement {
  return h("a", { href: `/pods/${seg(p.cluster)}/${seg(p.uid)}${search(s)}` }, p.name || p.uid);
}

export function cronJobLink(cluster: string, namespace: string, name: string, s: State): HTMLElement | string {
  if (!name) return "—";
  return h("a", { href: `/cronjobs/${seg(cluster)}/${seg(namespace)}/${seg(name)}${search(s)}` }, name);
}

export function badge(text: string): HTMLElement | string {
  if (!text) return "—";
  const tone = /^(Succeeded|Completed|Normal|Running)$/.test(text) ? "ok" : /^(Pending|Warning)$/.test(text) ? "warn" : "bad";
  return h(`span.badge.${tone}`, null, text);
}

// runsTable lists runs; ofOneCronJob leaves out the CronJob and namespace
// columns, for a CronJob's own page.
export function runsTable(runs: Run[], s: State, ofOneCronJob = false): HTMLElement {
  if (!runs.length) return empty("No runs.");
  const where = (r: Run): Cell[] => (ofOneCronJob ? [] : [cronJobLink(r.cluster, r.namespace, r.cronjob, s), r.namespace]);
  return table(
    ["Run", ...(ofOneCronJob ? [] : ["CronJob", "Namespace"]), "Created", "Duration", "Outcome", "Failure reason"],
    runs.map((r) => [
      runLink(r, s),
      ...where(r),
      when(r.created_at),
      fmtDuration(r.started_at ?? r.created_at, r.finished_at),
      badge(r.outcome || "Running"),
      r.reason || (r.message ? r.message : ""),
    ]),
  );
}

export function podsTable(pods: Pod[], s: State): HTMLElement {
  if (!pods.length) return empty("No pods.");
  return table(
    ["Pod", "Run", "CronJob", "Namespace", "Created", "Finished", "Phase", "Reason"],
    pods.map((p) => [
      podLink(p, s),
      p.job_uid ? runLink({ cluster: p.cluster, uid: p.job_uid, name: p.job_name }, s) : "—",
      cronJobLink(p.cluster, p.namespace, p.cronjob, s),
      p.namespace,
      when(p.created_at),
      when(p.finished_at),
      badge(p.phase),
      p.reason,
    ]),
  );
}

// involved links an event to the pod or run it is about.
function involved(e: KEvent, s: State): Node | string {
  const name = `${e.involved_kind}/${e.involved_name}`;
  if (e.involved_uid && e.involved_kind === "Pod") return podLink({ cluster: e.cluster, uid: e.involved_uid, name }, s);
  if (e.involved_uid && e.involved_kind === "Job") return runLink({ cluster: e.cluster, uid: e.involved_uid, name }, s);
  if (e.involved_kind === "CronJob") return cronJobLink(e.cluster, e.namespace, e.involved_name, s);
  return name;
}

export function eventsTable(events: KEvent[], s: State): HTMLElement {
  if (!events.length) return empty("No events.");
  return table(
    ["Last seen", "Type", "Reason", "Object", "Count", "Message"],
    events.map((e) => [when(e.time), badge(e.type), e.reason, involved(e, s), e.count, e.message]),
    "events",
  );
}

// timeline lists dated entries in time order, for a run's or pod's story.
export interface Moment { at?: string; what: string; detail?: string; tone?: "ok" | "warn" | "bad" }

export function timeline(moments: Moment[]): HTMLElement {
  const sorted = moments.filter((m) => m.at).sort((a, b) => (a.at! < b.at! ? -1 : a.at! > b.at! ? 1 : 0));
  if (!sorted.length) return empty("Nothing recorded.");
  return h(
    "ol.timeline",
    null,
    ...sorted.map((m) =>
      h(`li.${m.tone ?? "info"}`, null, h("time", null, fmtTime(m.at)), h("strong", null, m.what), m.detail ? h("span", null, m.detail) : null),
    ),
  );
}
