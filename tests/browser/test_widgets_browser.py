"""The widgets in a real JupyterLab, in Debian's headless Chromium: open a notebook, run
all cells, count the rendered nodes, click a node for its preview, run the pipeline and
see every node reach "done", open the timeline and the resource viewer. Screenshots go
to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.lab import ARTIFACTS, execute, open_notebook, run_all, write_notebook

pytestmark = pytest.mark.slow

CELLS = [
    "from tests.widgets.sample import build\nns = build('data')\nglobals().update(ns)",
    "from glacier_jupyter.widgets import DagWidget, ResourceWidget\ndag = DagWidget(etl)\ndag",
    "ResourceWidget(provider)",
]


def test_dag_and_resource_widgets_in_jupyterlab(page, lab_url: str, lab_root: Path) -> None:
    write_notebook(lab_root / "widgets.ipynb", CELLS)
    open_notebook(page, lab_url.format(path="widgets.ipynb"))
    run_all(page)

    dag = page.locator(".glw-dag")
    dag.wait_for(timeout=30_000)
    nodes = dag.locator(".glw-node")
    page.wait_for_function("() => document.querySelector('.glw-dag')?.dataset.rendered")
    # the pipeline has 4 tasks and 2 buckets: every one is a node
    assert nodes.count() == 6
    assert dag.locator(".glw-node[data-kind=task]").count() == 4
    assert dag.locator(".glw-node[data-kind=bucket]").count() == 2
    assert dag.locator(".glw-legend-item").count() == 3  # local, lambda, bucket
    assert "lambda" in dag.locator(".glw-legend").inner_text()

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
    page.screenshot(path=str(ARTIFACTS / "dag-preview.png"))

    # search dims what does not match
    dag.locator(".glw-search").fill("enr")
    assert dag.locator(".glw-node.dim").count() == 5
    dag.locator(".glw-search").fill("")

    # run the pipeline: every task reaches "done", then the timeline opens
    execute(page, "result = etl.run()")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.glw-dag .glw-node[data-kind=task]')]"
        ".every(e => e.dataset.status === 'done')",
        timeout=30_000,
    )
    assert dag.get_attribute("data-run-state") == "done"
    assert "4 done" in dag.locator(".glw-counts").inner_text()
    dag.screenshot(path=str(ARTIFACTS / "dag-done-preview.png"))
    dag.locator(".glw-close").click()  # the side panel closes, the graph fits the width again
    assert dag.locator(".glw-side.open").count() == 0
    page.mouse.move(0, 0)  # no tooltip in the picture
    page.wait_for_timeout(100)
    dag.screenshot(path=str(ARTIFACTS / "dag-done.png"))
    dag.locator(".glw-tab-timeline").click()
    assert dag.locator(".glw-timeline .glw-bar-row").count() == 4
    page.screenshot(path=str(ARTIFACTS / "dag-timeline.png"))
    dag.locator(".glw-tab-graph").click()

    # collapse by executor: one node per executor, buckets kept
    dag.locator(".glw-collapse").check()
    assert dag.locator(".glw-node[data-kind=group]").count() == 2
    assert dag.locator(".glw-node").count() == 4
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
    res.screenshot(path=str(ARTIFACTS / "resources.png"))
