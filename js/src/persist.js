// Keeps Glacier's widget outputs readable after the kernel is gone (a restart, a reopened
// notebook): when JupyterLab or Notebook 7 saves the notebook, the state of every Glacier
// widget shown in an output is written to the notebook's widget metadata, where the widget
// manager finds it on the next open instead of saying "model not found". A DAG is saved as
// the picture it shows (a few kB, drawn by PICTURE_ESM below), not as its full 60 kB module.
// Frontends without a notebook document behind the widget manager (VS Code, voila) are left
// as they are.

const VIEW = "application/vnd.jupyter.widget-view+json";
const STATE = "application/vnd.jupyter.widget-state+json";
const OURS = "glacier_jupyter.widgets.";
const REF = /^IPY_MODEL_([0-9a-f]+)$/;

// The module a saved DAG renders with: its picture and a line saying how to get the live one.
const PICTURE_ESM = `export default { render({ model, el }) {
  const box = document.createElement("div");
  box.className = "glw-picture";
  const img = document.createElement("img");
  img.alt = model.get("alt") || "DAG";
  img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(model.get("picture") || "<svg xmlns='http://www.w3.org/2000/svg'/>");
  const note = document.createElement("div");
  note.className = "glw-picture-note";
  note.textContent = "saved picture: run the cell again for the live DAG";
  box.append(img, note);
  el.append(box);
} };`;
const PICTURE_CSS = `.glw-picture{border:1px solid #ddd;border-radius:6px;padding:6px;overflow:auto;background:#fff}
.glw-picture img{display:block;max-width:none}
.glw-picture-note{font:11px system-ui,sans-serif;color:#777;margin-top:4px}`;
const KEEP = /^(_model_|_view_|_anywidget_id$|_dom_classes$|layout$|tabbable$|tooltip$|uid$)/;

// anywidget imports a widget's module once per model, so what the views share lives on the
// page: one picture per DAG (uid -> () => {svg, alt}) and one save hook per widget manager.
const SHARED = (globalThis[Symbol.for("glacier.widgets.persist")] ??= { pictures: new Map(), hooked: new WeakSet() });
const { pictures, hooked } = SHARED;

function shownIds(notebook) {
  const ids = new Set();
  for (let i = 0; i < notebook.cells.length; i++) {
    const cell = notebook.cells.get(i);
    if (cell.type !== "code" || !cell.outputs) continue;
    for (let j = 0; j < cell.outputs.length; j++) {
      const view = cell.outputs.get(j).data?.[VIEW];
      if (view?.model_id) ids.add(view.model_id);
    }
  }
  return ids;
}

function refsOf(value, out) {
  if (typeof value === "string") {
    const m = REF.exec(value);
    if (m) out.push(m[1]);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) refsOf(v, out);
  }
  return out;
}

function saved(entry) {
  const uid = entry.state?.uid;
  const picture = uid && pictures.get(uid);
  if (!picture) return entry; // a resource tree, a restored picture, or a DAG not drawn here
  const shown = picture();
  if (!shown) return entry; // not drawn yet
  const state = Object.fromEntries(Object.entries(entry.state).filter(([k]) => KEEP.test(k)));
  const { svg, alt } = shown;
  return { ...entry, state: { ...state, _esm: PICTURE_ESM, _css: PICTURE_CSS, picture: svg, alt } };
}

/** The widget metadata with Glacier's shown widgets in it (other widgets' entries untouched). */
export function glacierState(manager, notebook, previous) {
  const live = manager.get_state_sync({ drop_defaults: true }).state;
  const shown = shownIds(notebook);
  const isOurs = (e) => String(e?.state?._anywidget_id || "").startsWith(OURS);
  const state = {};
  // what was saved before: other widgets' entries as they were, ours while still shown
  for (const [id, e] of Object.entries(previous || {})) if (!isOurs(e) || shown.has(id)) state[id] = e;
  // each shown Glacier widget this page knows, with the models it refers to (its layout)
  const todo = [...shown].filter((id) => isOurs(live[id]));
  const seen = new Set();
  while (todo.length) {
    const id = todo.pop();
    if (seen.has(id) || !live[id]) continue;
    seen.add(id);
    state[id] = isOurs(live[id]) ? saved(live[id]) : live[id];
    todo.push(...refsOf(state[id].state, []));
  }
  // layouts nothing refers to any more
  const used = new Set(Object.values(state).flatMap((e) => refsOf(e.state, [])));
  for (const [id, e] of Object.entries(state)) if (e.model_name === "LayoutModel" && !used.has(id) && !shown.has(id)) delete state[id];
  return state;
}

function save(manager, notebook) {
  const get = (k) => (notebook.getMetadata ? notebook.getMetadata(k) : notebook.metadata.get(k));
  const set = (k, v) => (notebook.setMetadata ? notebook.setMetadata(k, v) : notebook.metadata.set(k, v));
  const before = get("widgets")?.[STATE];
  const state = glacierState(manager, notebook, before?.state);
  if (!Object.keys(state).length && !before) return;
  set("widgets", { [STATE]: { version_major: 2, version_minor: 0, ...(before || {}), state } });
}

/**
 * Save this widget's state with the notebook. ``picture`` (for a DAG) returns the SVG it
 * shows; ``uid`` is the model's ``uid`` trait. Returns a function that forgets the picture.
 */
export function persist(model, uid, picture) {
  if (uid && picture) pictures.set(uid, picture);
  const manager = model.widget_manager;
  const context = manager?.context;
  if (context?.saveState && context.model?.cells && !hooked.has(manager)) {
    hooked.add(manager);
    context.saveState.connect((_, phase) => {
      if (phase !== "started") return;
      try {
        save(manager, context.model);
      } catch (err) {
        console.warn("[glacier] could not save widget state", err);
      }
    });
  }
  return () => { if (uid && pictures.get(uid) === picture) pictures.delete(uid); };
}
