// batchlens UI: a small single-page app over the JSON API. Every view is
// a URL (see state.ts); links are plain <a href> that the router follows
// without reloading.
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { renderDashboard, loadDashboard, type After } from "./dashboard";
import { clear, h } from "./dom";
import { cronJobPage, itemsPage, podPage, runPage } from "./pages";
import { PRESETS, REFRESH, readState, refreshMillis, search, with_, type State } from "./state";
import { fitOnResize } from "./chart";
import type uPlot from "uplot";

let generation = 0; // the latest route call; older ones drop their result
let refreshTimer = 0;
let stopResize: () => void = () => {};

function go(path: string): void {
  history.pushState(null, "", path);
  void route(false);
}

function theme(): string {
  return localStorage.getItem("batchlens-theme") ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}

// header is the bar of global controls for state s on path.
function header(s: State, path: string): HTMLElement {
  const nav = (href: string, label: string, active: boolean) =>
    h("a", { href: href + search(s), class: active ? "active" : undefined, "aria-current": active ? "page" : undefined }, label);
  const isEng = path.startsWith("/engineering");
  const utcInput = (v: string) => {
    const d = new Date(v);
    return v && !isNaN(d.getTime()) ? d.toISOString().slice(0, 16) : "";
  };
  const from = h("input", { type: "datetime-local", name: "from", value: utcInput(s.from), "aria-label": "from (UTC)" });
  const to = h("input", { type: "datetime-local", name: "to", value: utcInput(s.to), "aria-label": "to (UTC)" });
  const custom = h(
    "form.custom",
    {
      hidden: !s.from,
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (!from.value) return;
        const iso = (v: string) => (v ? v + ":00Z" : "");
        go(path + search(with_(s, { last: "", from: iso(from.value), to: iso(to.value) })));
      },
    },
    h("label", null, "From ", from), h("label", null, "To ", to), h("span.muted", null, "UTC"), h("button", { type: "submit" }, "Apply"),
  );
  const filter = (name: "cluster" | "namespace" | "cronjob", label: string) =>
    h("label", null, label + " ", h("input", { name, value: s[name], placeholder: "all", autocomplete: "off", spellcheck: "false", size: 10 }));
  const filters = h(
    "form.filters",
    {
      onsubmit: (e: Event) => {
        e.preventDefault();
        const f = new FormData(e.target as HTMLFormElement);
        const v = (k: string) => String(f.get(k) ?? "").trim();
        go(path + search(with_(s, { cluster: v("cluster"), namespace: v("namespace"), cronjob: v("cronjob") })));
      },
    },
    filter("cluster", "Cluster"), filter("namespace", "Namespace"), filter("cronjob", "CronJob"),
    h("button", { type: "submit" }, "Filter"),
    s.cluster || s.namespace || s.cronjob
      ? h("a.clear", { href: path + search(with_(s, { cluster: "", namespace: "", cronjob: "" })) }, "Clear")
      : null,
  );
  return h(
    "header.top",
    null,
    h("div.topbar", null,
      h("a.brand", { href: "/" + search(s) }, "batchlens"),
      h("nav.tabs", null, nav("/", "Leadership", path === "/"), nav("/engineering", "Engineering", isEng)),
      h("button.theme", {
        type: "button", title: "Switch light / dark theme", "aria-label": "Switch theme",
        onclick: () => {
          localStorage.setItem("batchlens-theme", theme() === "dark" ? "light" : "dark");
          document.documentElement.dataset.theme = theme();
          void route(true);
        },
      }, theme() === "dark" ? "☀" : "☾"),
    ),
    h("div.controls", { class: s.cluster || s.namespace || s.cronjob ? "open" : undefined },
      h("div.presets", { role: "group", "aria-label": "time range" },
        ...PRESETS.map((p) => h("a", { href: path + search(with_(s, { last: p, from: "", to: "" })), class: !s.from && s.last === p ? "active" : undefined, "data-range": p }, p)),
        h("button", { type: "button", class: s.from ? "active" : undefined, onclick: () => { custom.hidden = !custom.hidden; } }, "Custom"),
      ),
      h("button.more", { type: "button", "aria-label": "Show filters and refresh",
        onclick: (e: Event) => (e.target as Element).closest(".controls")!.classList.toggle("open") }, "Filters ▾"),
      custom,
      filters,
      h("label.refresh", null, "Refresh ",
        h("select", { name: "refresh", onchange: (e: Event) => go(path + search(with_(s, { refresh: (e.target as HTMLSelectElement).value }))) },
          ...REFRESH.map((r) => h("option", { value: r, selected: s.refresh === r }, r)))),
    ),
  );
}

// page loads and builds the view of path, pushing chart drawing to after.
async function page(path: string, s: State, after: After): Promise<HTMLElement> {
  const parts = path.split("/").filter(Boolean).map((p) => decodeURIComponent(p));
  const [head, ...rest] = parts;
  if (!head || head === "engineering") {
    const id = head ? "engineering" : "leadership";
    const { cur, prev } = await loadDashboard(id, s, true);
    return renderDashboard(cur, prev, s, after);
  }
  if (head === "items" && rest.length === 2) {
    return itemsPage(rest[0], rest[1], new URLSearchParams(location.search).get("series") ?? "", s);
  }
  if (head === "cronjobs" && rest.length === 3) return cronJobPage(rest[0], rest[1], rest[2], s);
  if (head === "runs" && rest.length === 2) return runPage(rest[0], rest[1], s);
  if (head === "pods" && rest.length === 2) return podPage(rest[0], rest[1], s);
  throw new Error("No such page: " + path);
}

async function route(refresh: boolean): Promise<void> {
  const gen = ++generation;
  window.clearTimeout(refreshTimer);
  const s = readState();
  const path = location.pathname;
  const root = document.getElementById("app")!;
  document.body.dataset.ready = "false";
  let top = root.querySelector("header.top");
  const fresh = header(s, path);
  if (top) top.replaceWith(fresh);
  else root.append(fresh);
  top = fresh;
  let main = root.querySelector("main");
  if (!main) main = root.appendChild(h("main"));
  if (!refresh) {
    clear(main);
    main.append(h("div.loading", { role: "status" }, "Loading…"));
  }
  const after: After = [];
  let view: HTMLElement;
  try {
    view = await page(path, s, after);
  } catch (err) {
    view = h("div.page", { "data-page": "error" }, h("h1", null, "Could not load this view"), h("p.error", { role: "alert" }, String((err as Error).message ?? err)));
  }
  if (gen !== generation) return;
  stopResize();
  clear(main);
  main.append(view);
  document.title = (view.querySelector("h1")?.firstChild?.textContent ?? "batchlens") + " · batchlens";
  const charts: { chart: uPlot; el: HTMLElement }[] = [];
  for (const f of after) {
    const c = f() as unknown;
    if (c && typeof c === "object" && "root" in (c as object)) {
      const chart = c as uPlot;
      charts.push({ chart, el: chart.root.parentElement as HTMLElement });
    }
  }
  stopResize = fitOnResize(charts);
  document.body.dataset.renders = String(Number(document.body.dataset.renders ?? 0) + 1);
  document.body.dataset.ready = "true";
  performance.mark("batchlens-ready");
  const ms = refreshMillis(s.refresh);
  if (ms) refreshTimer = window.setTimeout(() => void route(true), ms);
}

function start(): void {
  document.documentElement.dataset.theme = theme();
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest("a");
    if (!a || a.target || a.hasAttribute("download")) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
    e.preventDefault();
    go(url.pathname + url.search);
  });
  window.addEventListener("popstate", () => void route(false));
  void route(false);
}

start();
