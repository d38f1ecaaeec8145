"""The committed notebooks as a static renderer shows them: nbconvert's HTML export keeps
every DAG and timeline as a picture (an ``<img>`` whose data is a well-formed SVG), not as
SVG text run together. JupyterLab's untrusted view is checked in tests/browser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import nbformat
import pytest
from nbconvert import HTMLExporter

from tests.notebooks.notebook_support import notebook_paths

PATHS = notebook_paths()
IMG = re.compile(r'<img\b[^>]*?\bsrc="data:image/svg\+xml;charset=utf-8,([^"]+)"[^>]*>')
SVG_NS = "{http://www.w3.org/2000/svg}"


def _pictures(html: str) -> list[ET.Element]:
    return [ET.fromstring(unquote(data.replace("&amp;", "&"))) for data in IMG.findall(html)]


def _outputs_drawing(nb: nbformat.NotebookNode, kind: str) -> int:
    """How many outputs carry a picture of ``kind`` ("dag" or "timeline")."""
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if f"class=%22glacier-{kind}%22" in o.get("data", {}).get("text/html", "")
    )


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_nbconvert_html_shows_each_dag_and_timeline_as_a_picture(path) -> None:
    nb = nbformat.read(path, as_version=4)
    html, _ = HTMLExporter().from_notebook_node(nb)
    pictures = _pictures(html)
    dags = [p for p in pictures if "glacier-dag" in p.get("class", "")]
    timelines = [p for p in pictures if "glacier-timeline" in p.get("class", "")]
    assert len(dags) == _outputs_drawing(nb, "dag")
    assert len(timelines) == _outputs_drawing(nb, "timeline")
    for svg in dags:  # a real picture: boxes and their labels inside an SVG root
        assert svg.tag == f"{SVG_NS}svg"
        assert svg.findall(f".//{SVG_NS}rect") and svg.findall(f".//{SVG_NS}text")
    # the labels are inside the pictures, never loose text in the page
    text = re.sub(r"<[^>]+>", " ", IMG.sub("", html))
    assert "executor: local (local, this process)" not in text


def test_the_tutorials_draw_dags_and_timelines() -> None:
    """The checks above are not vacuous: the tutorials do show both kinds of picture."""
    nbs = [nbformat.read(p, as_version=4) for p in PATHS]
    assert sum(_outputs_drawing(nb, "dag") for nb in nbs) >= 4
    assert sum(_outputs_drawing(nb, "timeline") for nb in nbs) >= 2
