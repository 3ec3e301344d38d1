// Time series with uPlot: sparklines on number cards, and line charts.
import uPlot from "uplot";
import type { Series } from "./api";

const PALETTE = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6"];

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
export function lineChart(el: HTMLElement, series: Series[], height = 180): uPlot {
  const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--grid"), width: 1 }, ticks: { show: false } };
  return new uPlot(
    {
      width: widthOf(el, 400),
      height,
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1)] } },
      axes: [axis, { ...axis, size: 40 }],
      series: [
        { value: (_u, v) => (v == null ? "—" : new Date(v * 1000).toISOString().slice(0, 16).replace("T", " ") + "Z") },
        ...series.map((s, i) => ({ label: s.name, stroke: cssVar(PALETTE[i % PALETTE.length]), width: 1.5 })),
      ],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    },
    data(series),
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
