// Bundles the widgets' ES modules (dagre included) into ../glacier_jupyter/widgets/static.
// Run with `npm ci && npm run build`; the output is committed, so installs need no build.
import { build } from "esbuild";
import { copyFileSync } from "node:fs";

const out = "../glacier_jupyter/widgets/static";
await build({
  entryPoints: { dag: "src/dag.js", resources: "src/resources.js" },
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  outdir: out,
  legalComments: "eof",
});
copyFileSync("src/widgets.css", `${out}/widgets.css`);
console.log(`built ${out}/dag.js, resources.js, widgets.css`);
