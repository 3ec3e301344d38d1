// Time series with uPlot: sparklines on number cards, and line charts.
import uPlot from "uplot";
import type { Series } from "./api";
import { axisValue, byteIncrs, fmtValue } from "./units";

const PALETTE = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6", "--c7", "--c8", "--c9", "--c10"];

// seriesColor is the CSS variable of the i-th series' line.
export function seriesColor(i: number): string {
  return `var(${PALETTE[i % PALETTE.length]})`;
}

// ChartOptions: unit formats the axis and the values; without legend,
// onCursor hears the bucket under the cursor (null when it leaves).
export interface ChartOptions {
  unit?: string;
  legend?: boolean;
  onCursor?: (idx: number | null, u: uPlot) => void;
  // limits[i], when set, is drawn as a dashed line in series i's color
  // wherever series i has a figure (a pod's limit while it ran).
  limits?: (number | null | undefined)[];
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function data(series: Series[]): uPlot.AlignedData {
  const xs = (series[0]?.points ?? []).map((p) => p[0]);
  return [xs, ...series.map((s) => s.points.map((p) => p[1]))] as uPlot.AlignedData;
}

// width of el's box, or a fallback before layout.
function widthOf(el: HTMLElement, fallback: number): number {
  return Math.max(80, Math.floor(el.getBoundingClientRect().width) || fallback);
}

// sparkline draws series into el (which must be in the document).
export function sparkline(el: HTMLElement, series: Series, color = "--accent"): uPlot {
  const stroke = cssVar(color);
  return new uPlot(
    {
      width: widthOf(el, 200),
      height: 40,
      pxAlign: false,
      cursor: { show: false },
      legend: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: false }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1)] } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke, width: 1.5, fill: stroke + "22", spanGaps: false }],
    },
    data([series]),
    el,
  );
}

// lineChart draws series as lines into el, with axes and a legend.
export function lineChart(el: HTMLElement, series: Series[], height = 180, opts: ChartOptions = {}): uPlot {
  const unit = opts.unit ?? "";
  const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--grid"), width: 1 }, ticks: { show: false } };
  const yAxis: uPlot.Axis = { ...axis, size: unit ? 64 : 40 };
  if (unit) yAxis.values = (_u, splits) => splits.map((v) => axisValue(v, unit));
  if (unit === "bytes" || unit === "bytes/s") yAxis.incrs = byteIncrs;
  // A unit's scale starts at 0 and may stay under 1 (0.25 cores).
  const yMax = unit ? 0 : 1;
  const onCursor = opts.onCursor;
  const limitLines = (opts.limits ?? []).flatMap((lim, i) =>
    lim == null || !series[i] ? [] : [{ i, line: series[i].points.map((p) => (p[1] == null ? null : lim)) }]);
  return new uPlot(
    {
      width: widthOf(el, 400),
      height,
      legend: { show: opts.legend ?? true },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(yMax, max ?? yMax) || 1] } },
      axes: [axis, yAxis],
      series: [
        { value: (_u, v) => (v == null ? "—" : new Date(v * 1000).toISOString().slice(0, 16).replace("T", " ") + "Z") },
        ...series.map((s, i) => ({ label: s.name, stroke: cssVar(PALETTE[i % PALETTE.length]), width: 1.5,
          value: (_u: uPlot, v: number | null) => fmtValue(v, unit) })),
        ...limitLines.map(({ i }) => ({ label: series[i].name + " limit", stroke: cssVar(PALETTE[i % PALETTE.length]), width: 1,
          dash: [5, 4], points: { show: false }, value: (_u: uPlot, v: number | null) => fmtValue(v, unit) })),
      ],
      hooks: onCursor ? { setCursor: [(u: uPlot) => onCursor(u.cursor.idx ?? null, u)] } : {},
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    },
    [...data(series), ...limitLines.map(({ line }) => line)] as uPlot.AlignedData,
    el,
  );
}

// resizeAll keeps charts as wide as their containers.
export function fitOnResize(charts: { chart: uPlot; el: HTMLElement }[]): () => void {
  const ro = new ResizeObserver(() => {
    for (const { chart, el } of charts) {
      const w = Math.floor(el.getBoundingClientRect().width);
      if (w > 0 && Math.abs(w - chart.width) > 2) chart.setSize({ width: w, height: chart.height });
    }
  });
  for (const { el } of charts) ro.observe(el);
  return () => ro.disconnect();
}
