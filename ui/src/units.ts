// Numbers in the API's units ("", "%", "cores", "bytes", "bytes/s"), as
// people read them.

const BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

// fmtBytes shows n bytes in binary units, one decimal from KiB up.
export function fmtBytes(n: number): string {
  const neg = n < 0;
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < BINARY.length - 1) {
    v /= 1024;
    i++;
  }
  return (neg ? "−" : "") + (i === 0 ? Math.round(v).toString() : v.toFixed(1)) + " " + BINARY[i];
}

// fmtCount shows a count with separators, and a figure that is not whole
// (core-seconds, GB-seconds) with two decimals.
export function fmtCount(v: number): string {
  return Number.isInteger(v)
    ? v.toLocaleString("en-US")
    : v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

// fmtValue shows v in unit; null is "—".
export function fmtValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined) return "—";
  switch (unit) {
    case "%":
      return v.toFixed(1) + "%";
    case "cores":
      return v.toFixed(2) + " cores";
    case "bytes":
      return fmtBytes(v);
    case "bytes/s":
      return fmtBytes(v) + "/s";
    default:
      return fmtCount(v);
  }
}

// axisValue is fmtValue made short for an axis tick.
export function axisValue(v: number, unit: string): string {
  switch (unit) {
    case "cores":
      return (Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0$/, ""));
    case "bytes":
    case "bytes/s":
      return fmtBytes(v).replace(/\.0 /, " ") + (unit === "bytes/s" ? "/s" : "");
    case "%":
      return v + "%";
    default:
      return Math.abs(v) >= 1e6 ? (v / 1e6).toFixed(1).replace(/\.0$/, "") + "M" : Math.abs(v) >= 1e4 ? (v / 1e3).toFixed(0) + "k" : String(v);
  }
}

// byteIncrs are axis steps that land on whole binary units: 1, 2, 5, 10,
// 20, 50, 100, 200, 500 of B, KiB, MiB, …
export const byteIncrs: number[] = BINARY.flatMap((_, i) => [1, 2, 5, 10, 20, 50, 100, 200, 500].map((m) => m * 1024 ** i));
