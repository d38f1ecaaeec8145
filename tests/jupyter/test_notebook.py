"""A notebook that builds the design document's Example 1 cell by cell, executed end to
end by a real kernel (nbclient): every object displays itself, every subcommand works."""

from __future__ import annotations

import importlib
import json

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SETUP = [
    "%load_ext glacier",
    "from glacier import Provider, pipeline\nfrom glacier.config import LocalConfig\nimport polars as pl\n\n"
    "provider = Provider(config=LocalConfig(base_path='./data'))\nprovider",
    "local_exec = provider.local()\nlocal_exec",
    "data_source = provider.bucket(bucket='data', path='input.parquet')\n"
    "data_source.write(pl.DataFrame({'id': list(range(100)), 'value': [i % 5 - 2 for i in range(100)]}))\n"
    "data_source",
    "@local_exec.task()\ndef load(source) -> pl.LazyFrame:\n    return source.scan()\n\nload",
    "@local_exec.task()\ndef transform(df: pl.LazyFrame) -> pl.LazyFrame:\n"
    "    return df.filter(pl.col('value') > 0)\n\ntransform",
    "@pipeline(name='simple')\ndef simple_pipeline():\n    data = load(data_source)\n"
    "    result = transform(data)\n    return result\n\nsimple_pipeline",
    "%glacier dag simple_pipeline",
    "%glacier dag simple_pipeline --static",
    "%glacier resources",
    "%glacier preview simple_pipeline.load -n 3",
    "%glacier preview simple_pipeline.transform",
    "%glacier preview data_source -n 2",
    "result = %glacier run simple_pipeline --mode local\nresult.collect().height",
    "simple_pipeline.last_run",
    "%glacier help",
]


def _has(module: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def _widgets_available() -> bool:
    from glacier_jupyter.bridge import widget_classes

    return widget_classes() is not None


def _execute(tmp_path, sources: list[str], tags: dict[int, list[str]] | None = None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, src in enumerate(sources):
        cell = nbformat.v4.new_code_cell(src)
        if tags and i in tags:
            cell.metadata["tags"] = tags[i]
        nb.cells.append(cell)
    path = tmp_path / "example1.ipynb"
    nbformat.write(nb, path)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env={"GLACIER_CACHE_DIR": str(tmp_path / "cache"), "GLACIER_PROGRESS": "0"})
    nbformat.write(nb, path)
    return nb


def _data(cell) -> dict:
    """Every mime type shown by a cell (later outputs win)."""
    merged: dict = {}
    for out in cell.outputs:
        merged.update(out.get("data", {}))
    return merged


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("nb")
    return _execute(tmp_path, SETUP), tmp_path


def test_every_object_displays_itself(executed):
    nb, _ = executed
    shown = [_data(c) for c in nb.cells]
    assert shown[1]["text/plain"].startswith("Provider: local") and "text/html" in shown[1]
    assert "Executor local" in shown[2]["text/plain"]
    assert "object: exists" in shown[3]["text/plain"]
    assert shown[4]["text/plain"].startswith("Task load(source) -> pl.LazyFrame")
    assert "text/plain" in shown[5]
    pipeline_cell = shown[6]
    assert "text/html" in pipeline_cell and "%3Csvg" in pipeline_cell["text/html"]  # an <img> of SVG


def test_dag_and_resources(executed):
    nb, _ = executed
    dag, static, resources = _data(nb.cells[7]), _data(nb.cells[8]), _data(nb.cells[9])
    # the interactive widget where it is installed, always with the static picture as fallback
    widget = "application/vnd.jupyter.widget-view+json"
    assert (widget in dag) == _widgets_available()
    assert (widget in resources) == _widgets_available()
    assert (widget in _data(nb.cells[6])) == _widgets_available()
    assert "%3Csvg" in dag["text/html"] and widget not in static  # the picture: an <img> of SVG
    assert "data-id=%22transform%22" in static["text/html"]
    assert "data/input.parquet" in json.dumps(resources)


def test_previews(executed):
    nb, _ = executed
    load, transform, bucket = (_data(nb.cells[i]) for i in (10, 11, 12))
    assert "Preview of simple.load" in load["text/plain"] and "first 3 row(s)" in load["text/plain"]
    assert "ran: load" in load["text/plain"]
    assert "first 10 row(s)" in transform["text/plain"] and "<table" in transform["text/html"]
    assert "first 2 row(s)" in bucket["text/plain"]


def test_run_with_live_progress(executed):
    nb, _ = executed
    run_cell = nb.cells[13]
    assert _data(run_cell)["text/plain"] == "40"
    displays = [o for o in run_cell.outputs if o.output_type in ("display_data", "update_display_data")]
    assert displays, "the run shows its progress while it runs"
    record = _data(nb.cells[14])
    assert "done" in record["text/plain"] and "glacier-timeline" in record["text/html"]
    assert "%glacier dag PIPELINE" in "".join(o.get("text", "") for o in nb.cells[15].outputs)


def test_user_mistakes_in_a_kernel(tmp_path):
    sources = ["%load_ext glacier", "%glacier dag nope", "%glacier frobnicate"]
    nb = _execute(tmp_path, sources, tags={1: ["raises-exception"], 2: ["raises-exception"]})
    for cell, message in ((nb.cells[1], "name 'nope' is not defined"), (nb.cells[2], "unknown %glacier")):
        # IPython shows a UsageError as one line on stderr: no traceback
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
        text += "".join(f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error")
        assert text.startswith("UsageError: ") and message in text
        assert "Traceback" not in text and "glacier_jupyter" not in text


@pytest.mark.skipif(
    not (_has("glacier.export", "export_notebook") and _has("glacier.terraform", "export")),
    reason="glacier.export.export_notebook / glacier.terraform.export are not in this tree yet",
)
def test_exports(tmp_path):
    sources = [
        *SETUP[:7],
        "%glacier export module simple_module.py --notebook example1.ipynb",
        "%glacier export terraform simple_pipeline infra --cloud aws",
    ]
    nb = _execute(tmp_path, sources)
    assert (tmp_path / "simple_module.py").is_file()
    assert (tmp_path / "infra" / "main.tf").is_file()
    assert "exported" in _data(nb.cells[7])["text/plain"]
