// Glacier resource viewer: a provider's storage and execution resources as a tree;
// click an item for its details (a bucket's existence is checked on click).
import { persist } from "./persist.js";

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function value(v) {
  if (v == null) return "<i>–</i>";
  if (Array.isArray(v)) return v.length ? esc(v.join(", ")) : "<i>none</i>";
  if (typeof v === "object") return `<table>${Object.entries(v).map(([k, x]) => `<tr><td>${esc(k)}</td><td>${value(x)}</td></tr>`).join("")}</table>`;
  return esc(v);
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "glw glw-resources";
  root.innerHTML = `<div class="glw-bar"><span class="glw-title">Resources</span></div><div class="glw-tree"><div class="glw-tree-list"></div><div class="glw-details"><p>click an item for its details</p></div></div>`;
  el.appendChild(root);
  const list = root.querySelector(".glw-tree-list"), details = root.querySelector(".glw-details");
  const items = new Map();
  let selected = null;

  function node(item, depth) {
    items.set(item.id, item);
    const kids = item.children || [];
    const open = depth < 3;
    return `<li data-id="${esc(item.id)}" class="${open ? "open" : ""}">` +
      `<span class="glw-tree-toggle">${kids.length ? (open ? "▾" : "▸") : ""}</span>` +
      `<span class="glw-tree-item" data-id="${esc(item.id)}" data-kind="${esc(item.kind)}">${esc(item.label)}<span class="glw-kind">${esc(item.kind)}</span></span>` +
      (kids.length ? `<ul style="${open ? "" : "display:none"}">${kids.map((k) => node(k, depth + 1)).join("")}</ul>` : "") + "</li>";
  }
  function show(id) {
    const item = items.get(id);
    if (!item) return;
    selected = id;
    const d = { ...item.details };
    if (item.kind === "bucket") {
      const ex = model.get("exists") || {};
      const name = item.label;
      d.exists = name in ex ? ex[name] : "checking…";
    }
    details.innerHTML = `<h4>${esc(item.label)} <span class="glw-kind">${esc(item.kind)}</span></h4><table class="glw-detail-table">${Object.entries(d).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${value(v)}</td></tr>`).join("")}</table>`;
    for (const e of list.querySelectorAll(".glw-tree-item.sel")) e.classList.remove("sel");
    list.querySelector(`.glw-tree-item[data-id="${CSS.escape(id)}"]`)?.classList.add("sel");
  }
  function draw() {
    items.clear();
    list.innerHTML = `<ul>${node(model.get("tree"), 0)}</ul>`;
    if (selected) show(selected);
  }
  list.addEventListener("click", (e) => {
    const tog = e.target.closest(".glw-tree-toggle");
    if (tog) {
      const ul = tog.parentElement.querySelector(":scope > ul");
      if (ul) { const open = ul.style.display === "none"; ul.style.display = open ? "" : "none"; tog.textContent = open ? "▾" : "▸"; }
      return;
    }
    const it = e.target.closest(".glw-tree-item");
    if (!it) return;
    const item = items.get(it.dataset.id);
    show(it.dataset.id);
    if (item && item.kind === "bucket") model.send({ type: "exists", bucket: item.label });
  });
  model.on("change:tree", draw);
  model.on("change:exists", () => { if (selected) show(selected); });
  draw();
  persist(model); // its whole state (a few kB) is saved with the notebook
}

export default { render };
