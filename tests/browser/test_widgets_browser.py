"""The widgets in a real JupyterLab and in Notebook 7, in Debian's headless Chromium: open a
notebook, run all cells, count the rendered nodes, click a node for its preview, run the
pipeline and see every node reach "done", open the timeline, collapse by executor (every
edge drawn, none hidden behind a node), browse the resource viewer. A console error from
the widgets' code fails the test. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.lab import execute, open_notebook, run_all, write_notebook
from tests.browser.pages import UIS, Console, shoot, ui_url

pytestmark = pytest.mark.slow

CELLS = [
    "from tests.widgets.sample import build\nns = build('data')\nglobals().update(ns)",
    # a run whose statuses reach the browser before the widget's first draw
    "from glacier_jupyter.widgets import DagWidget, ResourceWidget\n"
    "early = DagWidget(etl, follow='next')\ndisplay(early)\netl.run();",
    "dag = DagWidget(etl, record=None)\ndag",
    "ResourceWidget(provider)",
]
# for every edge of the drawn graph, the share of its length hidden behind a node's box
HIDDEN = """() => {
  const svg = document.querySelectorAll('.glw-dag')[1].querySelector('svg.glw-svg');
  const boxes = [...svg.querySelectorAll('.glw-node')].map((g) => {
    const m = /translate\\(([-\\d.e]+),([-\\d.e]+)\\)/.exec(g.getAttribute('transform'));
    const r = g.querySelector('rect.bg');
    return [+m[1], +m[2], +r.getAttribute('width'), +r.getAttribute('height')];
  });
  return [...svg.querySelectorAll('.glw-edge')].map((p) => {
    const n = 40, len = p.getTotalLength();
    let inside = 0;
    for (let i = 1; i < n; i++) {
      const q = p.getPointAtLength((len * i) / n);
      if (boxes.some(([x, y, w, h]) => q.x > x + 1 && q.x < x + w - 1 && q.y > y + 1 && q.y < y + h - 1)) inside++;
    }
    return inside / (n - 1);
  });
}"""


@pytest.mark.parametrize("ui", list(UIS))
def test_dag_and_resource_widgets(page, lab_url: str, lab_root: Path, ui: str) -> None:
    console = Console(page)
    write_notebook(lab_root / f"widgets-{ui}.ipynb", CELLS)
    open_notebook(page, ui_url(lab_url, ui, f"widgets-{ui}.ipynb"))
    run_all(page)

    early, dag = page.locator(".glw-dag").nth(0), page.locator(".glw-dag").nth(1)
    dag.wait_for(timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('.glw-dag')].every(d => d.dataset.rendered)")
    # the run that raced the first draw is drawn in full
    assert early.locator(".glw-node[data-kind=task][data-status=done]").count() == 4
    nodes = dag.locator(".glw-node")
    # the pipeline has 4 tasks and 2 buckets: every one is a node
    assert nodes.count() == 6
    assert dag.locator(".glw-node[data-kind=task]").count() == 4
    assert dag.locator(".glw-node[data-kind=bucket]").count() == 2
    assert dag.locator(".glw-legend-item").count() == 3  # local, lambda, bucket
    assert "lambda" in dag.locator(".glw-legend").inner_text()
    assert dag.get_attribute("data-run-state") == ""  # made with record=None: no run shown yet

    # collapsed before any run: each executor says how many tasks it holds, not "0/2 done"
    dag.locator(".glw-collapse").check()
    metas = dag.locator(".glw-node[data-kind=group] text.meta").all_text_contents()
    assert sorted(metas) == ["2 tasks", "2 tasks"]
    dag.locator(".glw-collapse").uncheck()

    # hover shows the task's signature and its executor's config
    dag.locator(".glw-node[data-id=clean]").hover()
    tip = dag.locator(".glw-tip")
    assert "clean(df: pl.LazyFrame) -> pl.LazyFrame" in tip.inner_text()
    assert "memory: 1024" in tip.inner_text()

    # click a node: its preview (first rows and schema) in the side panel
    dag.locator(".glw-node[data-id=clean]").click()
    preview = dag.locator(".glw-preview[data-node=clean]")
    preview.wait_for(timeout=30_000)
    assert preview.locator("tbody tr").count() == 10
    assert "value" in preview.locator("thead").inner_text()
    assert "Int64" in preview.locator("thead").inner_text()
    preview.locator(".glw-code summary").click()  # the task's source, folded under the rows
    assert "def clean(df: pl.LazyFrame)" in preview.locator(".glw-code pre").inner_text()
    shoot(dag, f"{ui}-dag-side-panel")

    # search lights the matches and what they read and write; the rest is dimmed
    dag.locator(".glw-search").fill("enr")
    assert dag.locator(".glw-node.hit").count() == 1
    assert sorted(dag.locator(".glw-node.path").evaluate_all("es => es.map(e => e.dataset.id)")) == [
        "clean",
        "save",
    ]
    assert dag.locator(".glw-node.dim").count() == 3
    dag.locator(".glw-search").fill("")

    # run the pipeline: every task reaches "done", then the timeline opens
    execute(page, "result = etl.run()")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.glw-dag')[1].querySelectorAll('.glw-node[data-kind=task]')]"
        ".every(e => e.dataset.status === 'done')",
        timeout=30_000,
    )
    assert dag.get_attribute("data-run-state") == "done"
    assert "4 done" in dag.locator(".glw-counts").inner_text()
    dag.locator(".glw-close").click()  # the side panel closes, the graph fits the width again
    assert dag.locator(".glw-side.open").count() == 0
    page.mouse.move(0, 0)  # no tooltip in the picture
    page.wait_for_timeout(100)
    shoot(dag, f"{ui}-dag-done")
    dag.locator(".glw-tab-timeline").click()
    assert dag.locator(".glw-timeline .glw-bar-row").count() == 4
    assert dag.locator(".glw-tab.active").inner_text() == "timeline"  # the active tab, not a disabled one
    shoot(dag, f"{ui}-dag-timeline")
    # the pipeline's last runs side by side: the one before this widget and the one it followed
    dag.locator(".glw-tab-runs").click()
    assert dag.locator(".glw-runs-table thead th").count() == 3
    assert dag.locator(".glw-runs-table td.glw-run-cell[data-status=done]").count() == 8
    shoot(dag, f"{ui}-dag-run-history")
    dag.locator(".glw-tab-graph").click()

    # collapse by executor: one node per executor, buckets kept; the edge that flows back
    # (lambda -> local) is drawn like the others, not hidden behind the boxes
    dag.locator(".glw-collapse").check()
    assert dag.locator(".glw-node[data-kind=group]").count() == 2
    assert dag.locator(".glw-node").count() == 4
    shoot(dag, f"{ui}-dag-collapsed")
    hidden = page.evaluate(HIDDEN)
    assert len(hidden) == 4 and max(hidden) < 0.25, hidden
    dag.locator(".glw-collapse").uncheck()

    # export SVG: a download holding every node
    with page.expect_download() as info:
        dag.locator(".glw-export").click()
    svg = Path(info.value.path()).read_text()
    assert svg.startswith("<svg") and svg.count("data-kind=") == 6

    # the resource viewer: a tree; clicking a bucket shows its details and existence
    res = page.locator(".glw-resources")
    res.wait_for()
    assert res.locator(".glw-tree-item[data-kind=executor]").count() == 2
    assert res.locator(".glw-tree-item[data-kind=task]").count() == 4
    res.locator(".glw-tree-item[data-kind=bucket]").first.click()
    details = res.locator(".glw-details")
    page.wait_for_function(
        "() => document.querySelector('.glw-resources .glw-details').innerText.includes('true')"
    )
    assert "raw.parquet" in details.inner_text()
    res.locator(".glw-tree-item[data-kind=executor]", has_text="lambda").click()
    assert "LambdaConfig" in details.inner_text()
    shoot(res, f"{ui}-resources")
    assert console.ours() == []
