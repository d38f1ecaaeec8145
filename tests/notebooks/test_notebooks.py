"""The tutorial notebooks: well-formed, in sync with their sources, executed, small.

This module's collector (``conftest.NotebookModule``) also runs every notebook under
nbval, strictly, after these checks.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from tests.notebooks.notebook_support import NOTEBOOKS, ROOT, SANITIZE, build, notebook_paths

MAX_CELLS_CHARS = 80_000
MAX_OUTPUT_CHARS = 20_000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# an absolute path (POSIX or Windows) or a temporary folder's name, in any output
ABSOLUTE = re.compile(
    r"(?:^|[\s\"'(=>])(?:/(?:tmp|home|root|var|Users|private|work)/|[A-Z]:\\)|glacier-nb-|tmp[a-z0-9_]{8}"
)

PATHS = notebook_paths()


def _ids() -> list[str]:
    return [p.stem for p in PATHS]


def test_there_are_notebooks() -> None:
    assert [p.stem[:2] for p in PATHS] == sorted({p.stem[:2] for p in PATHS})
    assert "01_quickstart" in _ids()


def test_notebooks_agree_with_their_sources() -> None:
    assert build.check() == []
    assert {p.stem for p in build.sources()} == set(_ids())


@pytest.mark.parametrize("path", PATHS, ids=_ids())
def test_opens_with_what_it_shows_and_how_to_run_it(path) -> None:
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# "), "the first cell is the notebook's title"
    assert "How to run" in first.source
    assert nb.metadata.kernelspec.name == build.KERNEL_NAME


@pytest.mark.parametrize("path", PATHS, ids=_ids())
def test_executed_top_to_bottom_with_small_outputs(path) -> None:
    nb = nbformat.read(path, as_version=4)
    cells = len(json.dumps(nb.cells))
    assert cells < MAX_CELLS_CHARS, f"{path.name}: cells and outputs take {cells} characters"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for out in cell.outputs:
            if out.output_type == "error":
                assert "NBVAL_RAISES_EXCEPTION" in cell.source, f"{cell.id} failed: {out.ename}"
            size = len(out.get("text", "")) + sum(len(str(v)) for v in out.get("data", {}).values())
            assert size < MAX_OUTPUT_CHARS, f"{path.name} {cell.id}: output of {size} characters"


@pytest.mark.parametrize("path", PATHS, ids=_ids())
def test_outputs_are_static_pictures_without_widget_views(path) -> None:
    """A widget view needs the kernel that made it ("model not found" anywhere else): the
    committed notebooks keep the static picture beside each one instead, which every
    renderer shows, trusted or not."""
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    for out in outputs:
        html = out.get("data", {}).get("text/html", "")
        assert "<svg" not in html, "inline SVG is stripped by sanitisers: draw it as an <img>"


@pytest.mark.parametrize("path", PATHS, ids=_ids())
def test_outputs_do_not_depend_on_where_the_notebook_ran(path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts = [out.get("text", ""), *map(str, out.get("data", {}).values())]
            for text in texts:
                found = ABSOLUTE.search(text)
                assert found is None, (
                    f"{path.name} {cell.id}: {text[max(0, found.start() - 60) : found.end() + 60]!r}"
                )


@pytest.mark.parametrize("path", PATHS, ids=_ids())
def test_outputs_ignored_only_where_they_vary(path) -> None:
    nb = nbformat.read(path, as_version=4)
    ignored = [c for c in nb.cells if c.cell_type == "code" and "NBVAL_IGNORE_OUTPUT" in c.source]
    for cell in ignored:  # the marker opens the cell, the next line says why
        lines = cell.source.splitlines()
        assert lines[0] == "# NBVAL_IGNORE_OUTPUT", f"{cell.id}: nbval needs the marker alone on its line"
        assert lines[1].startswith("# (") and len(lines[1]) > 20, f"{cell.id}: say why on the next line"
    assert len(ignored) <= 2


SAMPLES = [
    ("<glacier.Widget object at 0x7f3a1c2b9d50>", "<glacier.Widget object at 0xADDR>"),
    ("first 3 row(s) · in 8.5 ms", "first 3 row(s) · in <T>"),
    ("'simple' (local): done in 0.006s", "'simple' (local): done in <T>"),
    ("  load       done          4.1 ms          - rows", "  load       done <T>          - rows"),
    ("  load       done       1234.5 ms          - rows", "  load       done <T>          - rows"),
    ("took 1.20 s or 2.1 min", "took <T> or <T>"),
    ("  valid  done        <0.1 ms     3.0 ms", "  valid  done <T> <T>"),
    ("<td>&lt;0.1 ms</td>", "<td> <T></td>"),
    (
        '<img src="data:image/svg+xml;charset=utf-8,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 '
        'class=%22glacier-timeline%22 width=%22560%22%3E%3Crect x=%2283.5%22/%3E%3C/svg%3E" alt="timeline">',
        '<img src="data:image/svg+xml;charset=utf-8,<TIMELINE>" alt="timeline">',
    ),
    (
        "revenue:   0%|          | 0/3 [00:00<?, ?task/s]\r\n"
        "revenue: 100%|█████| 3/3 [00:00<00:00, 13.71task/s, finished]\r\nrun 900bd0eebd23 of 'revenue'",
        "run <RUN_ID> of 'revenue'",
    ),
    ("run 900bd0eebd23 of 'simple'", "run <RUN_ID> of 'simple'"),
    ("<h4>Run 900bd0eebd23 of", "<h4>Run <RUN_ID> of"),
    (
        "endpoint http://127.0.0.1:40313/ tcp://127.0.0.1:5",
        "endpoint http://127.0.0.1:<PORT>/ tcp://127.0.0.1:<PORT>",
    ),
]
UNTOUCHED = [
    "shape: (3, 2)",
    '<rect x="232" y="12" width="160" height="36" rx="5"',  # the DAG's layout is compared
    "data:image/svg+xml;charset=utf-8,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 class=%22glacier-dag%22",
    "URI: /tmp/glacier-nb-sckq_icoz/data/x.parquet",  # a leaked path fails the comparison
    "50% of 3/4 done",
    "rows 1,234 value 8.5",
    "run 123 of",
    "0x10 at 0xZZ",
]


def _sanitize(text: str) -> str:
    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(("raw", "want"), SAMPLES)
def test_sanitizer_replaces_what_varies(raw: str, want: str) -> None:
    assert _sanitize(raw) == want


@pytest.mark.parametrize("raw", UNTOUCHED)
def test_sanitizer_leaves_the_rest(raw: str) -> None:
    assert _sanitize(raw) == raw


def test_notebooks_folder_ignores_what_runs_write() -> None:
    ignored = (NOTEBOOKS / ".gitignore").read_text().split()
    assert "data/" in ignored


def test_docs_index_links_every_docs_page() -> None:
    docs = ROOT / "docs"
    index = (docs / "index.md").read_text()
    links = re.findall(r"\]\(([^)#]+)\)", index)
    for link in links:
        assert (docs / link).resolve().exists(), f"docs/index.md links to {link}, which does not exist"
    pages = {p.name for p in docs.glob("*.md")} - {"index.md"}
    assert pages <= set(links), f"docs/index.md does not link {sorted(pages - set(links))}"


def test_the_standard_nbval_command_passes_and_writes_only_what_git_ignores(tmp_path) -> None:
    """``pytest --nbval NOTEBOOK --nbval-sanitize-with nbval_sanitize.cfg`` (the command at the
    top of the file) in a notebooks folder elsewhere, with Glacier's default settings: the
    outputs match, and the run leaves only what ``notebooks/.gitignore`` ignores."""
    import os
    import shutil
    import subprocess
    import sys

    names = ["01_quickstart.ipynb", "06_notebook_to_module.ipynb"]
    for name in [*names, "nbval_sanitize.cfg", ".gitignore"]:
        shutil.copy(NOTEBOOKS / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", *names]
    command += ["--nbval-sanitize-with", "nbval_sanitize.cfg", "-c", os.devnull, "--rootdir", str(tmp_path)]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    left = {p.name for p in tmp_path.iterdir()} - {*names, "nbval_sanitize.cfg", ".gitignore"}
    assert left <= {"data", ".glacier", "revenue.py"}, left  # no 06_edited.ipynb, nothing else
