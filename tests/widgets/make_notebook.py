"""Write and execute widgets.ipynb (outputs kept) for the nbval test:
``.venv/bin/python tests/widgets/make_notebook.py``."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent
INTRO = """# Glacier widgets: the DAG and the resources of a pipeline

Shows `DagWidget(pipeline)` (tasks and buckets, coloured by executor; hover, pan and zoom,
search, collapse by executor, SVG export; click a node for its preview; live run status and a
timeline) and `ResourceWidget(provider)` (a provider's buckets and executors as a tree).

How to run: open it in JupyterLab and run all cells; the test suite runs it with
`pytest --nbval tests/widgets/widgets.ipynb --nbval-sanitize-with tests/widgets/nbval_sanitize.cfg`."""

CELLS = [
    "import os, tempfile\nfrom sample import build\n\nos.chdir(tempfile.mkdtemp(prefix='glacier-widgets-'))\n"
    "ns = build('data')\netl, provider = ns['etl'], ns['provider']",
    "from glacier_jupyter.widgets import DagWidget, ResourceWidget\n\ndag = DagWidget(etl)\ndag",
    "# what the browser receives: nodes with layers and positions, edges, executors\n"
    "ids = [row[0] for row in dag.graph['nodes']]\n"
    "print([(row[0], row[2], row[4]) for row in dag.graph['nodes']])\n"
    "print([(ids[a], ids[b]) for a, b in dag.graph['edges']])\n"
    "print([(e['name'], e['kind'], e['config']) for e in dag.graph['executors']])",
    "# clicking a node sends this message; only extract and clean run\n"
    "reply = dag.handle_message({'type': 'preview', 'node': 'clean', 'n': 3})\n"
    "reply['ran'], reply['columns'], reply['rows']",
    "# the widget shown above follows the run live\nresult = etl.run()\n"
    "sorted((node, s['s'], s.get('r')) for node, s in dag.statuses.items())",
    "ResourceWidget(provider)",
]


def main() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(INTRO)] + [nbformat.v4.new_code_cell(c) for c in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(HERE)}}).execute()
    nbformat.write(nb, HERE / "widgets.ipynb")


if __name__ == "__main__":
    main()
