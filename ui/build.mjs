// Builds the UI into ../internal/ui/dist, which the Go binary embeds:
// dist/index.html and content-hashed dist/assets/app-HASH.{js,css}.
import * as esbuild from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename } from "node:path";

const out = new URL("../internal/ui/dist/", import.meta.url).pathname;
await rm(out + "assets", { recursive: true, force: true });
await mkdir(out + "assets", { recursive: true });
const result = await esbuild.build({
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  outdir: out + "assets",
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((p) => p.endsWith(".js"));
const css = outputs.find((p) => p.endsWith(".css"));
if (!js || !css) throw new Error("esbuild produced no js or css: " + outputs.join(", "));
const html = (await readFile("index.html", "utf8")).replace("{{JS}}", js).replace("{{CSS}}", css);
await writeFile(out + "index.html", html);
console.log(`ui: built ${js} and ${css} into internal/ui/dist`);
