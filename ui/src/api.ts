// The JSON API's bodies (internal/query) and a fetch that throws the API's
// {"error"} message.

export type Num = number | null;
export type Point = [number, Num];

export interface Series { name: string; points: Point[] }
export interface Row { cluster: string; namespace: string; cronjob: string; value: number }
export interface KEvent {
  time: string; cluster: string; type: string; reason: string; message: string; namespace: string;
  involved_kind: string; involved_name: string; involved_uid: string; count: number;
}
// SeriesInfo says whose usage a resource usage series shows; by-pod
// widgets add the pod's request and limit (null: none set) where they
// show them, in the widget's unit.
export interface SeriesInfo {
  name: string; cluster: string; namespace: string; cronjob: string; pod?: string; request?: Num; limit?: Num;
}
export interface Column { id: string; title: string; unit: string }
export interface TableRow { cluster: string; namespace: string; cronjob: string; cells: Record<string, Num>; oom_risk: boolean }
export interface Widget {
  id: string; title: string; kind: "value" | "timeseries" | "toplist" | "table" | "events";
  unit: string; description: string; available: boolean; reason?: string;
  value?: Num; series?: Series[]; values?: Record<string, Num>; rows?: Record<string, unknown>[];
  events?: KEvent[]; total?: number; table?: { columns: Column[]; rows: TableRow[] }; series_info?: SeriesInfo[];
}
export interface Section { id: string; title: string; widgets: Widget[] }
export interface Dashboard {
  id: string; title: string; from: string; to: string; step_seconds: number;
  filters: { cluster: string; namespace: string; cronjob: string }; sections: Section[];
}
export interface Run {
  cluster: string; namespace: string; uid: string; name: string; cronjob: string;
  created_at?: string; scheduled_at?: string; started_at?: string; finished_at?: string; deleted_at?: string;
  outcome: string; reason: string; message: string; succeeded: number; failed: number;
}
export interface Pod {
  cluster: string; namespace: string; uid: string; name: string; job_uid: string; job_name: string; cronjob: string;
  node: string; created_at?: string; scheduled_at?: string; started_at?: string; pending_until?: string;
  finished_at?: string; deleted_at?: string; phase: string; reason: string; message: string;
}
export interface Termination {
  container: string; attempt: number; reason: string; exit_code: number; signal: number; message: string;
  started_at?: string; finished_at?: string;
}
export interface Restart { container: string; index: number; at?: string }
export interface Waiting { container: string; attempt: number; reason: string; message: string; first_seen?: string; last_seen?: string }
export interface PodDetail {
  pod: Pod; run?: Run; terminations: Termination[]; restarts: Restart[]; waits: Waiting[]; events?: KEvent[];
}
export interface RunDetail { run: Run; pods: PodDetail[]; events: KEvent[] }
export interface CronJobDetail {
  cluster: string; namespace: string; name: string; from: string; to: string;
  runs_created: number; runs_succeeded: number; runs_failed: number; success_rate: Num;
  failure_reasons: { reason: string; count: number }[]; runs: Run[]; events: KEvent[];
}
export interface Items {
  dashboard: string; widget: string; title: string; series: string; from: string; to: string;
  filters: { cluster: string; namespace: string; cronjob: string };
  kind: "runs" | "pods" | "events"; total: number; count_label: string; truncated: boolean;
  runs?: Run[]; pods?: Pod[]; events?: KEvent[];
}

export class APIError extends Error {}

export async function get<T>(path: string, params?: URLSearchParams): Promise<T> {
  const q = params && params.toString() ? "?" + params.toString() : "";
  const res = await fetch(path + q, { headers: { Accept: "application/json" } });
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new APIError(`${res.status} ${res.statusText}`);
  }
  if (!res.ok) {
    const msg = (body as { error?: string }).error;
    throw new APIError(msg ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

// seg encodes one path segment.
export const seg = encodeURIComponent;
