// The view's state lives in the URL, so that a view is a link: range
// (last= or from=/to=), filters (cluster, namespace, cronjob) and refresh.

export const PRESETS = ["15m", "1h", "24h", "7d", "30d"] as const;
export const REFRESH = ["off", "30s", "1m", "5m"] as const;
const FILTERS = ["cluster", "namespace", "cronjob"] as const;
export type FilterName = (typeof FILTERS)[number];

export interface State {
  last: string; // "" when from is set
  from: string;
  to: string;
  cluster: string;
  namespace: string;
  cronjob: string;
  refresh: string;
}

export function readState(search = location.search): State {
  const q = new URLSearchParams(search);
  const from = q.get("from") ?? "";
  return {
    last: from ? "" : q.get("last") || "24h",
    from,
    to: from ? q.get("to") ?? "" : "",
    cluster: q.get("cluster") ?? "",
    namespace: q.get("namespace") ?? "",
    cronjob: q.get("cronjob") ?? "",
    refresh: q.get("refresh") ?? "off",
  };
}

// rangeParams are the API's range parameters of s.
export function rangeParams(s: State): URLSearchParams {
  const q = new URLSearchParams();
  if (s.from) {
    q.set("from", s.from);
    if (s.to) q.set("to", s.to);
  } else {
    q.set("last", s.last);
  }
  return q;
}

// apiParams are the API's range and filter parameters of s.
export function apiParams(s: State): URLSearchParams {
  const q = rangeParams(s);
  for (const f of FILTERS) if (s[f]) q.set(f, s[f]);
  return q;
}

// search is the page query string for s, plus extra parameters.
export function search(s: State, extra?: Record<string, string>): string {
  const q = apiParams(s);
  if (s.refresh !== "off") q.set("refresh", s.refresh);
  for (const [k, v] of Object.entries(extra ?? {})) if (v) q.set(k, v);
  const str = q.toString();
  return str ? "?" + str : "";
}

export function with_(s: State, patch: Partial<State>): State {
  return { ...s, ...patch };
}

export function refreshMillis(r: string): number {
  return { "30s": 30_000, "1m": 60_000, "5m": 300_000 }[r] ?? 0;
}

// rangeLabel describes s's range for headings.
export function rangeLabel(s: State): string {
  if (!s.from) return "last " + s.last;
  return `${fmtTime(s.from)} – ${s.to ? fmtTime(s.to) : "now"}`;
}

// fmtTime shows an RFC 3339 time in UTC, to the second.
export function fmtTime(t?: string): string {
  if (!t) return "—";
  const d = new Date(t);
  if (isNaN(d.getTime())) return t;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$|Z$/, "Z");
}

export function fmtDuration(from?: string, to?: string): string {
  if (!from || !to) return "—";
  let s = Math.round((new Date(to).getTime() - new Date(from).getTime()) / 1000);
  if (!isFinite(s) || s < 0) return "—";
  const parts: string[] = [];
  for (const [unit, n] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (s >= n) {
      parts.push(Math.floor(s / n) + unit);
      s %= n;
    }
  }
  if (s || !parts.length) parts.push(s + "s");
  return parts.slice(0, 2).join(" ");
}

// fmtNum formats a widget number: integers with separators, percentages
// with one decimal. null is "—".
export function fmtNum(v: number | null | undefined, unit = ""): string {
  if (v === null || v === undefined) return "—";
  if (unit === "%") return v.toFixed(1) + "%";
  return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(2);
}
