// Glacier DAG widget: tasks and buckets laid out left to right (dagre), coloured by
// executor, with hover, pan/zoom, search, collapse by executor, SVG export, click-to-
// preview, live run status and a per-executor timeline. Python side: widgets/dag.py.
import dagre from "@dagrejs/dagre";
import { persist } from "./persist.js";

const DAGRE_MAX = 120; // above this, Glacier's own layered positions are used (dagre is slow)
const STATUS = {
  pending: "#bbbbbb", running: "#56B4E9", planned: "#7FA7D0", done: "#009E73",
  cached: "#8E6BBE", failed: "#D55E00", skipped: "#999999",
};
// the figure a task shows: the compute time the run's collection measured for it, else its
// call's time; a task whose part was fused into another's says so instead of "0 ms"
const figure = (st) => (st.c != null ? fmtS(st.c) : st.n ? st.n : st.t0 != null && st.t1 != null ? fmtS(st.t1 - st.t0) : "");
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
// cut in the middle: "raw/sales/nordics/2024-03" keeps its distinguishing end
const short = (s, n = 22) => (s.length <= n ? s : s.slice(0, Math.ceil((n - 1) / 2)) + "…" + s.slice(s.length - Math.floor((n - 1) / 2)));
// as the run record says it: never "0 ms" for a measured time
const fmtS = (s) => (s == null ? "" : s < 0.0001 ? "<0.1 ms" : s < 0.01 ? `${(s * 1000).toFixed(1)} ms` : s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);
const fmtN = (n) => (n == null ? "" : n.toLocaleString("en-US"));

const SVG_STYLE = `
.glw-node text{font:12px system-ui,sans-serif;fill:var(--jp-ui-font-color1,#222)}
.glw-node text.meta{font-size:10px;fill:var(--jp-ui-font-color2,#555)}
.glw-node rect.plate{fill:var(--jp-layout-color1,#fff)}
.glw-bucket rect.bg{fill:var(--jp-layout-color2,#f4f4f4)}
.glw-bucket[data-missing=true] rect.bg{stroke:#D55E00;stroke-width:2}
.glw-legend-text{font:11px system-ui,sans-serif;fill:#444}
.glw-node.path rect.bg{stroke-width:2.5}
.glw-node rect.bg{stroke-width:1.5}
.glw-node[data-status=pending] rect.bg{stroke:${STATUS.pending};stroke-width:2}
.glw-node[data-status=running] rect.bg{stroke:${STATUS.running};stroke-width:3;stroke-dasharray:6 3}
.glw-node[data-status=planned] rect.bg{stroke:${STATUS.planned};stroke-width:2.5;stroke-dasharray:2 2}
.glw-node[data-status=done] rect.bg{stroke:${STATUS.done};stroke-width:3}
.glw-node[data-status=cached] rect.bg{stroke:${STATUS.cached};stroke-width:3}
.glw-node[data-status=failed] rect.bg{stroke:${STATUS.failed};stroke-width:3}
.glw-node[data-status=skipped] rect.bg{stroke:${STATUS.skipped};stroke-width:2;stroke-dasharray:2 3}
.glw-node[data-status=skipped]{opacity:.55}
.glw-node.dim{opacity:.18}
.glw-node.hit rect.bg{stroke:#000;stroke-width:3}
.glw-node{cursor:pointer}
.glw-edge{fill:none;stroke:#999;stroke-width:1.2}
`;

function layered(nodes, edges) {
  // longest-path layers, for big collapsed graphs (dagre is too slow there)
  const n = nodes.length, succ = nodes.map(() => []), indeg = new Array(n).fill(0), layer = new Array(n).fill(0);
  for (const [a, b] of edges) { succ[a].push(b); indeg[b]++; }
  const q = []; for (let i = 0; i < n; i++) if (!indeg[i]) q.push(i);
  for (let h = 0; h < q.length; h++) for (const c of succ[q[h]]) { layer[c] = Math.max(layer[c], layer[q[h]] + 1); if (!--indeg[c]) q.push(c); }
  const count = {};
  nodes.forEach((nd, i) => { const l = layer[i]; const k = count[l] || 0; count[l] = k + 1; nd.x = 12 + l * 200; nd.y = 12 + k * 48; });
}

function layout(nodes, edges, W, H) {
  if (nodes.length > DAGRE_MAX) return false;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 48, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  nodes.forEach((nd, i) => g.setNode(String(i), { width: W, height: H }));
  for (const [a, b] of edges) g.setEdge(String(a), String(b));
  dagre.layout(g);
  nodes.forEach((nd, i) => { const p = g.node(String(i)); nd.x = p.x - W / 2; nd.y = p.y - H / 2; });
  return edges.map(([a, b]) => g.edge(String(a), String(b))?.points || null); // routes around the nodes
}

function through(pts) {
  // a smooth curve through the points (Catmull-Rom as cubic Béziers)
  let d = `M${pts[0].x},${pts[0].y}`;
  for (let i = 0; i < pts.length - 1; i++) {
    const p0 = pts[i - 1] || pts[i], p1 = pts[i], p2 = pts[i + 1], p3 = pts[i + 2] || p2;
    d += `C${p1.x + (p2.x - p0.x) / 6},${p1.y + (p2.y - p0.y) / 6} ${p2.x - (p3.x - p1.x) / 6},${p2.y - (p3.y - p1.y) / 6} ${p2.x},${p2.y}`;
  }
  return d;
}

function render({ model, el }) {
  const g = model.get("graph");
  const [W, H] = [g.node_size[0], Math.max(g.node_size[1], 36)];
  const exs = g.executors;
  const full = g.nodes.map((r) => ({ id: r[0], label: r[1], kind: r[2], ex: r[3], layer: r[4], x: r[5], y: r[6], tip: g.tips[r[7]], missing: r[8] === 1 }));
  const nTasks = full.filter((n) => n.kind === "task").length;
  const nBuckets = full.length - nTasks;

  const root = document.createElement("div");
  root.className = "glw glw-dag";
  root.innerHTML = `
    <div class="glw-bar">
      <span class="glw-title">${esc(g.name)}</span>
      <input type="search" class="glw-search" placeholder="search" title="search tasks and buckets (Enter centres the first match)">
      <label><input type="checkbox" class="glw-collapse"> collapse by executor</label>
      <button class="glw-fit" title="fit the graph to the view">fit</button>
      <button class="glw-export" title="download the picture as SVG">export SVG</button>
      <span class="glw-tabs"><button class="glw-tab glw-tab-graph active" aria-pressed="true">graph</button><button class="glw-tab glw-tab-timeline" aria-pressed="false" disabled title="after a run: tasks per executor over time">timeline</button><button class="glw-tab glw-tab-runs" aria-pressed="false" disabled title="the last runs side by side">runs</button></span>
    </div>
    <div class="glw-run-error glw-err" style="display:none"></div>
    <div class="glw-legend">${exs.map((e) => `<span class="glw-legend-item" title="${esc(e.service)}"><span class="sw" style="background:${e.color}"></span>${esc(e.name)} <small>(${esc(e.kind)})</small></span>`).join("")}
      ${nBuckets ? `<span class="glw-legend-item"><span class="sw" style="background:#f4f4f4;border:1px dashed #888"></span>bucket</span>` : ""}<span class="glw-counts"></span></div>
    <div class="glw-main"><div class="glw-canvas"><div class="glw-tip"></div></div><div class="glw-side"></div></div>
    <div class="glw-timeline"></div>
    <div class="glw-runs"></div>`;
  el.appendChild(root);
  const $ = (s) => root.querySelector(s);
  const canvas = $(".glw-canvas"), tip = $(".glw-tip"), side = $(".glw-side"), counts = $(".glw-counts");
  const main = $(".glw-main"), timeline = $(".glw-timeline"), runs = $(".glw-runs"), runError = $(".glw-run-error");
  let view = { x: 0, y: 0, k: 1 }, shown = null, els = new Map(), selected = null, vp = null, svg = null;

  function collapsedGraph() {
    const nodes = [], idx = new Map(), edges = new Set();
    full.forEach((n, i) => {
      const key = n.kind === "task" ? `executor:${exs[n.ex].name}` : n.id;
      if (!idx.has(key)) {
        idx.set(key, nodes.length);
        nodes.push(n.kind === "task" ? { id: key, label: exs[n.ex].name, kind: "group", ex: n.ex, members: [], tip: "" } : { ...n });
      }
      if (n.kind === "task") nodes[idx.get(key)].members.push(n.id);
      n._g = idx.get(key);
    });
    for (const [a, b] of g.edges) { const s = full[a]._g, t = full[b]._g; if (s !== t) edges.add(`${s},${t}`); }
    nodes.forEach((n) => { if (n.kind === "group") { n.label = `${n.label} (${n.members.length})`; n.tip = `${n.members.length} tasks on ${exs[n.ex].name}`; } });
    return { nodes, edges: [...edges].map((e) => e.split(",").map(Number)) };
  }

  function nodeSvg(n) {
    const id = esc(n.id);
    if (n.kind === "bucket") {
      return `<g class="glw-node glw-bucket" data-id="${id}" data-kind="bucket" data-missing="${Boolean(n.missing)}" transform="translate(${n.x},${n.y})">` +
        `<rect class="bg" width="${W}" height="${H}" rx="14" fill="#f4f4f4" stroke="#888" stroke-dasharray="4 3"/>` +
        (n.missing
          ? `<text x="${W / 2}" y="${H / 2 - 1}" text-anchor="middle">${esc(short(n.label))}</text><text class="meta" x="${W / 2}" y="${H / 2 + 12}" text-anchor="middle">missing: not written yet</text></g>`
          : `<text x="${W / 2}" y="${H / 2 + 4}" text-anchor="middle">${esc(short(n.label))}</text></g>`);
    }
    const c = exs[n.ex].color;
    return `<g class="glw-node glw-${n.kind}" data-id="${id}" data-kind="${n.kind}" data-status="" transform="translate(${n.x},${n.y})">` +
      `<rect class="plate" width="${W}" height="${H}" rx="5" fill="#fff"/>` +
      `<rect class="bg" width="${W}" height="${H}" rx="5" fill="${c}" fill-opacity="0.15" stroke="${c}"/>` +
      `<rect width="6" height="${H}" rx="2" fill="${c}"/>` +
      `<text x="13" y="15">${esc(short(n.label))}</text><text class="meta" x="13" y="29"></text></g>`;
  }

  function draw() {
    const t0 = performance.now();
    const collapsed = $(".glw-collapse").checked;
    shown = collapsed ? collapsedGraph() : { nodes: full.map((n) => ({ ...n })), edges: g.edges };
    shown.routes = layout(shown.nodes, shown.edges, W, H) || [];
    if (!shown.routes.length && collapsed) layered(shown.nodes, shown.edges);
    const nodes = shown.nodes;
    const parts = [];
    shown.edges.forEach(([a, b], i) => parts.push(`<path class="glw-edge" d="${edgePath(nodes[a], nodes[b], shown.routes[i])}" marker-end="url(#glw-arrow)"/>`));
    const body = nodes.map(nodeSvg).join("");
    canvas.querySelector("svg")?.remove();
    canvas.insertAdjacentHTML("afterbegin",
      `<svg xmlns="http://www.w3.org/2000/svg" class="glw-svg"><style>${SVG_STYLE}</style>` +
      `<defs><marker id="glw-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#999"/></marker></defs>` +
      `<g class="glw-vp"><g class="glw-edges">${parts.join("")}</g><g class="glw-nodes">${body}</g></g></svg>`);
    svg = canvas.querySelector("svg");
    vp = svg.querySelector(".glw-vp");
    els = new Map();
    for (const e of svg.querySelectorAll(".glw-node")) els.set(e.dataset.id, e);
    size();
    fit();
    search();
    updateStatus();
    root.dataset.renderMs = String(Math.round(performance.now() - t0));
    root.dataset.rendered = String(els.size);
  }

  function edgePath(s, t, route) {
    if (t.x > s.x + W / 2) { // left to right: from the right side of s to the left side of t
      const x1 = s.x + W, y1 = s.y + H / 2, x2 = t.x - 2, y2 = t.y + H / 2, m = (x1 + x2) / 2;
      return `M${x1},${y1}C${m},${y1} ${m},${y2} ${x2},${y2}`;
    }
    // flowing back (a collapsed graph: dask -> local -> lambda -> local): dagre's route
    // around the nodes, or else a loop under both
    if (route && route.length > 1) return through(route);
    const x1 = s.x + W * 0.6, y1 = s.y + H, x2 = t.x + W * 0.4, y2 = t.y + H + 2;
    const dip = Math.max(y1, y2) + 28;
    return `M${x1},${y1}C${x1},${dip} ${x2},${dip} ${x2},${y2}`;
  }
  function size() {
    // the graph's own height (a small graph gets a small canvas); taller while the side panel is open
    const b = bounds(), open = side.classList.contains("open");
    main.style.height = `${Math.round(Math.min(520, Math.max(open ? 320 : 140, b.y1 - b.y0 + 60)))}px`;
  }
  function apply() { vp.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`); }
  function bounds() {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of shown.nodes) { x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y); x1 = Math.max(x1, n.x + W); y1 = Math.max(y1, n.y + H); }
    for (const r of shown.routes || []) for (const p of r || []) { x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y); }
    if (!shown.routes?.length && shown.edges.some(([a, b]) => shown.nodes[b].x <= shown.nodes[a].x + W / 2)) y1 += 30; // loops of back edges
    return isFinite(x0) ? { x0, y0, x1, y1 } : { x0: 0, y0: 0, x1: W, y1: H };
  }
  function fit() {
    const b = bounds(), cw = canvas.clientWidth || 800, ch = canvas.clientHeight || 420;
    const k = Math.min(1.2, (cw - 20) / (b.x1 - b.x0), (ch - 20) / (b.y1 - b.y0));
    view = { k, x: (cw - (b.x1 - b.x0) * k) / 2 - b.x0 * k, y: (ch - (b.y1 - b.y0) * k) / 2 - b.y0 * k };
    apply();
    const focus = selected && side.classList.contains("open") && shown.nodes.find((n) => n.id === selected);
    if (focus && k < 0.75) { view.k = 0.75; centerOn(focus); }
  }
  function centerOn(n) {
    const cw = canvas.clientWidth || 800, ch = canvas.clientHeight || 420;
    view.k = Math.max(view.k, 0.75);
    view.x = cw / 2 - (n.x + W / 2) * view.k; view.y = ch / 2 - (n.y + H / 2) * view.k;
    apply();
  }

  // -- pan & zoom ------------------------------------------------------------------
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { if (!e.target.closest(".glw-node")) { drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y }; canvas.style.cursor = "grabbing"; } });
  canvas.addEventListener("mousemove", (e) => { if (drag) { view.x = drag.vx + e.clientX - drag.x; view.y = drag.vy + e.clientY - drag.y; apply(); } });
  for (const ev of ["mouseup", "mouseleave"]) canvas.addEventListener(ev, () => { drag = null; canvas.style.cursor = ""; });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect(), px = e.clientX - r.left, py = e.clientY - r.top;
    const k = Math.min(4, Math.max(0.05, view.k * Math.exp(-e.deltaY * 0.0015)));
    view.x = px - ((px - view.x) * k) / view.k; view.y = py - ((py - view.y) * k) / view.k; view.k = k;
    apply();
  }, { passive: false });

  // -- hover -----------------------------------------------------------------------
  const byId = () => new Map(shown.nodes.map((n) => [n.id, n]));
  let index = null;
  function statusText(id) {
    const st = model.get("statuses")[id];
    if (!st) return "";
    const call = st.t0 != null && st.t1 != null ? st.t1 - st.t0 : null;
    return `\nstatus: ${st.s}` + (call != null ? `; call ${fmtS(call)}` : "") + (st.c != null ? `; compute ${fmtS(st.c)}` : "") +
      (st.r != null ? `; ${fmtN(st.r)} rows` : "") + (st.n ? ` (${st.n})` : "") + (st.e ? `\nerror: ${st.e}` : "");
  }
  function tipText(n) {
    if (n.kind === "bucket") return `bucket ${n.label}\n${n.tip}`;
    const e = exs[n.ex];
    const settings = Object.entries(e.settings || {}).filter(([, v]) => v != null && v !== "").map(([k, v]) => `  ${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("\n");
    const head = n.kind === "group" ? n.tip : n.tip;
    return `${head}\nexecutor: ${e.name} (${e.kind}, ${e.service})` + (e.config ? `\nconfig: ${e.config}` : "") + (settings ? `\n${settings}` : "") + (n.kind === "task" ? statusText(n.id) : "");
  }
  canvas.addEventListener("mousemove", (e) => {
    const t = e.target.closest(".glw-node");
    if (!t) { tip.style.display = "none"; return; }
    index = index || byId();
    const n = index.get(t.dataset.id);
    if (!n) return;
    const r = canvas.getBoundingClientRect();
    tip.textContent = tipText(n);
    tip.style.display = "block";
    const tw = tip.offsetWidth, th = tip.offsetHeight;
    let left = e.clientX - r.left + 14, top = e.clientY - r.top + 14;
    if (left + tw > r.width - 4) left = Math.max(4, e.clientX - r.left - tw - 10);
    if (top + th > r.height - 4) top = Math.max(4, e.clientY - r.top - th - 10);
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
  });
  canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });

  const closeBtn = `<button class="glw-close" title="close" style="float:right">×</button>`;
  // -- click: preview --------------------------------------------------------------
  canvas.addEventListener("click", (e) => {
    const t = e.target.closest(".glw-node");
    if (!t) return;
    index = index || byId();
    const n = index.get(t.dataset.id);
    selected = n.id;
    tip.style.display = "none";
    const wasOpen = side.classList.contains("open");
    side.classList.add("open");
    if (!wasOpen) { size(); requestAnimationFrame(fit); }
    if (n.kind === "group") {
      side.innerHTML = `${closeBtn}<h4>${esc(n.label)}</h4><p>tasks on this executor:</p><pre>${esc(n.members.join("\n"))}</pre>`;
      return;
    }
    side.innerHTML = `${closeBtn}<h4>${esc(n.label)}</h4><pre class="glw-about">${esc(tipText(n))}</pre><p class="glw-loading">loading preview…</p>`;
    model.send({ type: "preview", node: n.id, n: model.get("preview_rows") });
  });
  side.addEventListener("click", (e) => {
    if (e.target.closest(".glw-close")) { side.classList.remove("open"); side.innerHTML = ""; selected = null; size(); requestAnimationFrame(fit); }
  });
  function showPreview() {
    const p = model.get("preview");
    if (!p || p.node !== selected || p.loading) return;
    const loading = side.querySelector(".glw-loading");
    const box = document.createElement("div");
    box.className = "glw-preview";
    box.dataset.node = p.node;
    if (p.error) {
      box.innerHTML = `<p class="glw-err">${esc(p.error)}</p>`;
      const about = side.querySelector(".glw-about"); // the node's own error, if it is the same, once
      if (about) about.textContent = about.textContent.split("\n").filter((l) => !(l.startsWith("error: ") && p.error.includes(l.slice(7)))).join("\n");
    }
    else if (p.value != null) box.innerHTML = `<p>value: <code>${esc(p.value)}</code></p>`;
    else {
      const head = p.columns.map((c, i) => `<th>${esc(c)}<br><small>${esc(p.dtypes[i])}</small></th>`).join("");
      const rows = p.rows.map((r) => `<tr>${r.map((v) => `<td>${v == null ? "<i>null</i>" : esc(v)}</td>`).join("")}</tr>`).join("");
      const ran = p.ran.length ? `ran ${p.ran.join(", ")}` : "nothing ran";
      box.innerHTML = `<p><b>preview</b> · first ${p.rows.length} rows · ${esc(ran)}${p.cached.length ? ` · cached ${esc(p.cached.join(", "))}` : ""} · ${fmtS(p.elapsed)}</p>` +
        `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
    }
    if (p.code) {
      const code = document.createElement("details");
      code.className = "glw-code";
      code.innerHTML = `<summary>source</summary><pre>${esc(p.code)}</pre>`;
      box.appendChild(code);
    }
    side.querySelector(".glw-preview")?.remove();
    if (loading) loading.replaceWith(box); else side.appendChild(box);
  }
  model.on("change:preview", showPreview);

  // -- search ----------------------------------------------------------------------
  const input = $(".glw-search");
  function search() {
    // matches are lit, with what they read and write (one step up and down the chain)
    const q = input.value.trim().toLowerCase();
    const hits = new Set();
    shown.nodes.forEach((n, i) => {
      if (q && (n.label.toLowerCase().includes(q) || n.id.toLowerCase().includes(q) || (n.members || []).some((m) => m.toLowerCase().includes(q)))) hits.add(i);
    });
    const near = new Set();
    for (const [a, b] of shown.edges) { if (hits.has(a)) near.add(b); if (hits.has(b)) near.add(a); }
    let first = null;
    shown.nodes.forEach((n, i) => {
      const e = els.get(n.id), hit = hits.has(i), path = !hit && near.has(i);
      e.classList.toggle("dim", Boolean(q) && !hit && !path);
      e.classList.toggle("hit", hit);
      e.classList.toggle("path", path);
      if (hit && !first) first = n;
    });
    return first;
  }
  input.addEventListener("input", search);
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { const n = search(); if (n) centerOn(n); } });
  $(".glw-collapse").addEventListener("change", () => { index = null; draw(); });
  $(".glw-fit").addEventListener("click", fit);

  // -- export ----------------------------------------------------------------------
  function exportSvg() {
    const b = bounds(), clone = svg.cloneNode(true), top = 26, legend = 22;
    clone.querySelector(".glw-vp").setAttribute("transform", `translate(${12 - b.x0},${top + 12 - b.y0})`);
    const items = [...exs.map((e) => [e.color, `${e.name} (${e.kind})`]), ...(nBuckets ? [["#f4f4f4", "bucket"]] : [])];
    let x = 12;
    const keys = items.map(([c, label]) => {
      const out = `<rect x="${x}" y="${top + b.y1 - b.y0 + 30}" width="10" height="10" fill="${c}" stroke="#888" stroke-width="0.5"/><text class="glw-legend-text" x="${x + 14}" y="${top + b.y1 - b.y0 + 39}">${esc(label)}</text>`;
      x += 24 + 6.5 * label.length;
      return out;
    }).join("");
    const run = model.get("run") || {};
    const title = `${g.name}: ${nTasks} task${nTasks === 1 ? "" : "s"}, ${nBuckets} bucket${nBuckets === 1 ? "" : "s"}` + (run.state ? ` · run ${run.state}` : "");
    const w = Math.max(b.x1 - b.x0 + 24, x + 12), h = top + b.y1 - b.y0 + 24 + legend;
    clone.insertAdjacentHTML("beforeend", `<text x="12" y="18" style="font:600 13px system-ui,sans-serif;fill:#222">${esc(title)}</text>${keys}`);
    clone.setAttribute("width", w); clone.setAttribute("height", h); clone.setAttribute("viewBox", `0 0 ${w} ${h}`);
    clone.removeAttribute("class");
    return new XMLSerializer().serializeToString(clone);
  }
  $(".glw-export").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([exportSvg()], { type: "image/svg+xml" }));
    const a = document.createElement("a");
    a.href = url; a.download = `${g.name}.svg`; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });

  // -- live status -----------------------------------------------------------------
  function groupStatus(members, sts) {
    let done = 0, any = { running: 0, failed: 0, pending: 0, skipped: 0 };
    for (const m of members) { const s = sts[m]?.s; if (s === "done" || s === "cached") done++; else if (s in any) any[s]++; }
    const s = any.failed ? "failed" : any.running ? "running" : done === members.length ? "done" : done || any.skipped ? (any.pending ? "running" : "skipped") : members.some((m) => sts[m]) ? "pending" : "";
    const size = `${members.length} task${members.length === 1 ? "" : "s"}`;
    return [s, s ? `${done}/${members.length} done` : size];
  }
  function updateStatus() {
    if (!shown) return; // a status that arrives before the first draw is applied by draw()
    const sts = model.get("statuses") || {}, run = model.get("run") || {};
    const tally = {};
    for (const [, st] of Object.entries(sts)) tally[st.s] = (tally[st.s] || 0) + 1;
    for (const n of shown.nodes) {
      if (n.kind === "bucket") continue;
      const e = els.get(n.id);
      let s = "", meta = "";
      if (n.kind === "group") [s, meta] = groupStatus(n.members, sts);
      else {
        const st = sts[n.id];
        if (st) {
          s = st.s;
          meta = s === "done" || s === "cached" ? [s === "cached" ? "cached" : figure(st), st.r != null ? `${fmtN(st.r)} rows` : ""].filter(Boolean).join(" · ")
            : s === "failed" ? `failed: ${st.e || ""}` : s;
        }
      }
      if (e.dataset.status !== s) e.dataset.status = s;
      const m = e.querySelector("text.meta");
      if (m && m.textContent !== meta) m.textContent = short(meta, 24);
    }
    const parts = [`${nTasks} task${nTasks === 1 ? "" : "s"}`, `${nBuckets} bucket${nBuckets === 1 ? "" : "s"}`];
    for (const s of Object.keys(STATUS)) if (tally[s]) parts.push(`<span style="color:${STATUS[s]}">${tally[s]} ${s}</span>`);
    if (run.state === "running") parts.push(`<span class="glw-clock"></span>`);
    else if (run.state) parts.push(`run ${esc(run.state)}` + (run.end && run.start ? ` in ${fmtS(run.end - run.start)}` : ""));
    counts.innerHTML = parts.join(" · ");
    runError.textContent = run.state === "failed" && run.error ? run.error : "";
    runError.style.display = runError.textContent ? "" : "none";
    clock(run);
    root.dataset.runState = run.state || "";
    const finished = run.state === "done" || run.state === "failed";
    $(".glw-tab-timeline").disabled = !finished && !$(".glw-tab-timeline").classList.contains("active");
    if (timeline.style.display === "block") drawTimeline();
  }
  // an elapsed clock while a run is going (the browser's own time: no clock skew with the kernel)
  let ticking = null, since = null;
  function clock(run) {
    if (run.state !== "running") { clearInterval(ticking); ticking = null; since = null; return; }
    if (!since || since.id !== run.id) since = { id: run.id, t: performance.now() };
    const show = () => { const c = counts.querySelector(".glw-clock"); if (c) c.textContent = `running ${fmtS((performance.now() - since.t) / 1000)}`; };
    show();
    if (!ticking) ticking = setInterval(show, 250);
  }
  model.on("change:statuses", updateStatus);
  model.on("change:run", updateStatus);

  // -- timeline (Gantt per executor) -------------------------------------------------
  function drawTimeline() {
    const sts = model.get("statuses") || {}, run = model.get("run") || {};
    const rows = Object.entries(sts).filter(([, s]) => s.t0 != null);
    if (!rows.length) { timeline.innerHTML = "<p style='padding:8px'>no timings in this run</p>"; return; }
    const t0 = Math.min(run.start || Infinity, ...rows.map(([, s]) => s.t0));
    const t1 = Math.max(run.end || 0, ...rows.map(([, s]) => Math.max(s.t1 ?? s.t0, s.cs != null && s.c ? s.cs + s.c : 0)));
    const span = Math.max(t1 - t0, 1e-6), LW = 170, PW = Math.max(300, (timeline.clientWidth || 800) - LW - 30), RH = 16;
    const exColor = new Map(exs.map((e) => [e.name, e.color]));
    const lanes = new Map();
    for (const [id, s] of rows.sort((a, b) => a[1].t0 - b[1].t0)) { const x = s.x || "?"; if (!lanes.has(x)) lanes.set(x, []); lanes.get(x).push([id, s]); }
    const out = []; let y = 20;
    for (const [x, items] of lanes) {
      out.push(`<text x="4" y="${y + 12}" font-weight="600">${esc(x)}</text>`); y += RH + 2;
      for (const [id, s] of items) {
        // the call (solid) and, for a task computed in the run's collection, its share of it (light)
        const bx = LW + ((s.t0 - t0) / span) * PW, bw = Math.max(2, (((s.t1 ?? s.t0) - s.t0) / span) * PW);
        const colour = exColor.get(x) || "#888";
        const share = s.cs != null && s.c ? `<rect class="glw-compute" x="${LW + ((s.cs - t0) / span) * PW}" y="${y + 4}" width="${Math.max(2, (s.c / span) * PW)}" height="${RH - 8}" fill="${colour}" fill-opacity="0.35" stroke="${colour}" stroke-dasharray="2 1"/>` : "";
        const what = `call ${fmtS((s.t1 ?? s.t0) - s.t0)}` + (s.c != null ? `; compute ${fmtS(s.c)}` : "") + (s.n ? ` (${s.n})` : "");
        out.push(`<g class="glw-bar-row" data-id="${esc(id)}"><title>${esc(id)}: ${esc(s.s)}; ${esc(what)}</title>` +
          `<text x="14" y="${y + 11}" font-size="11">${esc(short(id, 24))}</text>` +
          `<rect x="${bx}" y="${y + 2}" width="${bw}" height="${RH - 4}" fill="${colour}" stroke="${STATUS[s.s] || "#888"}"/>${share}</g>`);
        y += RH;
      }
      y += 6;
    }
    out.push(`<text x="${LW}" y="12" font-size="10" fill="#666">0</text><text x="${LW + PW}" y="12" font-size="10" fill="#666" text-anchor="end">${fmtS(span)}</text>`);
    timeline.innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" width="${LW + PW + 20}" height="${y + 10}" font-family="system-ui,sans-serif" font-size="12">${out.join("")}</svg>`;
  }
  function tab(name) {
    for (const b of root.querySelectorAll(".glw-tab")) {
      const on = b.classList.contains(`glw-tab-${name}`);
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", String(on));
    }
  }
  function show(name) {
    main.style.display = name === "graph" ? "" : "none";
    timeline.style.display = name === "timeline" ? "block" : "none";
    runs.style.display = name === "runs" ? "block" : "none";
    tab(name);
    if (name === "timeline") drawTimeline(); else if (name === "runs") drawRuns(); else updateStatus();
  }
  for (const name of ["graph", "timeline", "runs"]) $(`.glw-tab-${name}`).addEventListener("click", () => show(name));

  // -- run history: the last runs side by side -----------------------------------------
  function drawRuns() {
    const hist = model.get("history") || [];
    const tasks = [];
    for (const r of hist) for (const t of Object.keys(r.tasks)) if (!tasks.includes(t)) tasks.push(t);
    const head = hist.map((r) => `<th title="run ${esc(r.id)}">${esc(r.id.slice(0, 6))}<br><span style="color:${STATUS[r.state] || "#555"}">${esc(r.state)}</span> <small>${fmtS(r.duration)}</small></th>`).join("");
    const rows = tasks.map((t) => `<tr><td class="glw-run-task">${esc(t)}</td>${hist.map((r) => {
      const c = r.tasks[t];
      if (!c) return "<td></td>";
      const bits = [c.c != null ? fmtS(c.c) : c.s === "done" || c.s === "failed" ? fmtS(c.d) : "", c.r != null ? `${fmtN(c.r)} rows` : ""].filter(Boolean).join(" · ");
      return `<td class="glw-run-cell" data-status="${esc(c.s)}"><span style="color:${STATUS[c.s] || "#555"}">${esc(c.s)}</span>${bits ? `<br><small>${esc(bits)}</small>` : ""}</td>`;
    }).join("")}</tr>`).join("");
    runs.innerHTML = hist.length
      ? `<table class="glw-runs-table"><thead><tr><th>task</th>${head}</tr></thead><tbody>${rows}</tbody></table>`
      : "<p style='padding:8px'>no run yet</p>";
  }
  function historyChanged() {
    $(".glw-tab-runs").disabled = !(model.get("history") || []).length;
    if (runs.style.display === "block") drawRuns();
  }
  model.on("change:history", historyChanged);
  historyChanged();

  // first render once the element is in the page (for its size)
  requestAnimationFrame(draw);
  const forget = persist(model, model.get("uid"), () => (svg ? { svg: exportSvg(), alt: `DAG of ${g.name}` } : null));
  return () => { clearInterval(ticking); forget(); };
}

export default { render };
