"""What reaches the module and what does not; bad input; warnings; determinism."""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path

import pytest

from glacier.export import (
    CredentialWarning,
    ExportDriftError,
    ExportError,
    ExportWarning,
    export_notebook,
)
from tests.export.export_nbutil import code, markdown, notebook, write_notebook

HEAD = (
    "import polars as pl\n"
    "from glacier import Provider, pipeline\n"
    "from glacier.config import LocalConfig\n\n"
    'provider = Provider(config=LocalConfig(base_path="./data"))\n'
    "local_exec = provider.local()\n"
    'src = provider.bucket(bucket="raw", path="in.parquet")'
)
TASK = "@local_exec.task()\ndef load(source) -> pl.LazyFrame:\n    return source.scan()"
PIPE = '@pipeline(name="etl")\ndef etl(n: int = 1):\n    return load(src)'


def export(tmp_path: Path, *cells: dict, **kwargs: object) -> str:
    path = write_notebook(tmp_path / "nb.ipynb", *cells)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning unless a test expects one
        return export_notebook(path, **kwargs)


def body(text: str) -> str:
    """The module without its header docstring."""
    return text.split('"""', 2)[2]


def test_imports_provider_resources_tasks_pipeline_in_notebook_order(tmp_path: Path) -> None:
    text = export(tmp_path, code(HEAD), code(TASK), code(PIPE), code('etl.run(mode="local", n=3)'))
    tree = ast.parse(text)
    kinds = [type(s).__name__ for s in tree.body]
    assert kinds[:4] == ["Expr", "Import", "ImportFrom", "ImportFrom"]  # docstring, imports
    order = [text.index(s) for s in ("provider = Provider", "local_exec = ", "src = ", "def load", "def etl")]
    assert order == sorted(order)
    assert text.rstrip().endswith(
        'if __name__ == "__main__":\n    etl.run(mode="local", n=3)\n    print(etl.last_run.summary())'
    )
    assert body(text).count(".run(") == 1  # only in __main__


def test_magics_shell_escapes_and_get_ipython_never_reach_the_module(tmp_path: Path) -> None:
    text = export(
        tmp_path,
        code("%load_ext glacier\n%matplotlib inline\n" + HEAD),
        code("!pip install polars\nfiles = !ls\nprint(files)\nn_files = len(files)"),
        code("%%bash\necho hi"),
        code("%%capture captured\nx = 1"),
        code("captured.show()\ny = captured"),
        code(TASK + "\n%time load(src)"),
        code("get_ipython().run_line_magic('who', '')\nload?\n%glacier dag etl"),
        code(PIPE),
        code("%glacier preview etl.load -n 5\n%glacier run etl --mode local"),
    )
    for banned in ("%", "!pip", "!ls", "get_ipython", "echo hi", "files", "captured", "load?"):
        assert banned not in body(text), banned
    assert "x = 1" in text  # %%capture's body is Python
    assert 'etl.run(mode="local")' in text  # %glacier run counts as the last run


def test_glacier_run_magic_parameters_become_the_main_run(tmp_path: Path) -> None:
    text = export(
        tmp_path,
        code(HEAD),
        code(TASK),
        code(PIPE),
        code("%glacier run etl --mode distributed -p n=3 --param label='a b' -p day=2024-01-01"),
    )
    assert 'etl.run(mode="distributed", n=3, label="a b", day="2024-01-01")' in text


def test_display_expressions_previews_widgets_and_runs_are_dropped(tmp_path: Path) -> None:
    text = export(
        tmp_path,
        code(HEAD + "\nprovider\nsrc"),
        code("src.write(pl.DataFrame({'v': [1, 2]}))\nsrc.scan().head(3).collect()"),
        code(TASK),
        code("load(src).collect()\ndisplay(src)\nprint('look')\n'a string'\n1 + 1"),
        code(PIPE),
        code("etl.graph\ng = etl.graph\nlen(g.nodes)"),
        code("import ipywidgets as widgets\nfrom glacier_jupyter import DagWidget\nw = DagWidget(etl)\nw"),
        code("result = etl.run(n=2, progress=False, on_event=print)\nsummary = result.select(pl.len())"),
        code("print(etl.last_run.summary())\nrecord = etl.last_run\nsummary"),
        code("other = 5"),
    )
    b = body(text)
    assert "src.write(pl.DataFrame" in b  # a call with an effect stays
    for banned in (
        "\nprovider\n",
        "\nsrc\n",
        ".head(3)",
        "collect()",
        "display(",
        "print('look')",
        "'a string'",
        "1 + 1",
        "etl.graph",
        "ipywidgets",
        "glacier_jupyter",
        "DagWidget",
        "result",
        "summary = ",
        "record",
        "on_event",
        "progress",
    ):
        assert banned not in b, banned
    assert "other = 5" in b
    assert b.rstrip().endswith("etl.run(n=2)\n    print(etl.last_run.summary())")


def test_a_kept_function_using_a_dropped_name_warns(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb",
        code(HEAD),
        code(TASK),
        code(PIPE),
        code("result = etl.run()"),
        code("@local_exec.task()\ndef again(df):\n    return result.join(df, on='id')"),
    )
    with pytest.warns(
        ExportWarning, match=r"cell 5, line 2: again uses result, which the module does not define"
    ):
        export_notebook(path)


def test_starting_processes_at_import_warns(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb",
        code("from dask.distributed import LocalCluster\n" + HEAD),
        code("cluster = LocalCluster(n_workers=1)"),
        code(TASK),
        code(PIPE),
    )
    with pytest.warns(ExportWarning, match=r"cell 2, line 1: LocalCluster\(\.\.\.\) starts worker processes"):
        export_notebook(path)


def test_tags_skip_and_export(tmp_path: Path) -> None:
    text = export(
        tmp_path,
        code(HEAD),
        code("scratch = 1", "glacier-skip"),
        code("#| glacier-skip\nscratch2 = 2"),
        code(TASK),
        code("CONST = 3\nCONST", "glacier-export"),
        code(PIPE),
        code("etl.run()", "glacier-export"),  # runs still go to __main__
    )
    b = body(text)
    assert "scratch" not in b
    assert "CONST = 3\nCONST\n" in b  # kept as written, display expression included
    assert b.count("etl.run(") == 1


def test_markdown_above_a_task_or_pipeline_becomes_a_comment(tmp_path: Path) -> None:
    text = export(
        tmp_path,
        markdown("# Intro\nNot above a task."),
        code(HEAD),
        markdown("## Load\n\nRead the **raw** data."),
        code(TASK),
        markdown("The pipeline."),
        code(PIPE),
    )
    assert "# Load\n#\n# Read the **raw** data.\n@local_exec.task()" in text
    assert "# The pipeline.\n@pipeline" in text
    assert "Intro" not in text


def test_two_pipelines_all_exported_main_runs_the_last_run_or_the_named_one(tmp_path: Path) -> None:
    cells = (
        code(HEAD),
        code(TASK),
        code(PIPE),
        code('@pipeline(name="other")\ndef second():\n    return load(src)'),
        code("second.run()"),
        code("etl.run(n=5)"),
        code("second.run(progress=False)"),
    )
    text = export(tmp_path, *cells)
    assert "def etl" in text and "def second" in text
    assert text.rstrip().endswith("second.run()\n    print(second.last_run.summary())")
    for wanted in ("etl", "etl"):
        named = export(tmp_path, *cells, pipeline=wanted)
        assert named.rstrip().endswith("etl.run(n=5)\n    print(etl.last_run.summary())")
    by_name = export(tmp_path, *cells, pipeline="other")
    assert by_name.rstrip().endswith("second.run()\n    print(second.last_run.summary())")
    with pytest.raises(ExportError, match=r"no pipeline 'nope'; its pipelines are: etl, other, second"):
        export(tmp_path, *cells, pipeline="nope")


def test_pipelines_made_by_a_factory_function(tmp_path: Path) -> None:
    factory = (
        "def build(provider):\n"
        "    ex = provider.local()\n\n"
        "    @ex.task()\n    def one() -> int:\n        return 1\n\n"
        '    @pipeline(name="made")\n    def made():\n        return one()\n\n'
        "    return made, ex"
    )
    text = export(
        tmp_path,
        code(HEAD),
        code(factory),
        code("made_pipeline, ex = build(provider)\nvalue = made_pipeline.run(mode='local')\nvalue"),
    )
    assert "made_pipeline, ex = build(provider)" in text
    assert "value" not in body(text)
    assert text.rstrip().endswith(
        'made_pipeline.run(mode="local")\n    print(made_pipeline.last_run.summary())'
    )


def test_asserts_and_reads_are_notebook_checks(tmp_path: Path) -> None:
    text = export(
        tmp_path,
        code(HEAD),
        code(TASK),
        code(PIPE),
        code("out = etl.run()\nsrc.read()\nsrc.exists()\nassert src.exists()\nassert 1 + 1 == 2"),
        code('df = pl.read_parquet("data/raw/in.parquet")\npl.read_parquet("data/raw/in.parquet")'),
        code('pl.scan_csv("x.csv").head(2).collect()\npl.read_csv("x.csv")'),
    )
    b = body(text)
    assert "assert" not in b and "src.read()" not in b and "src.exists()" not in b
    # a bare polars read ending a cell only shows its result; an assigned one is kept
    assert b.count("pl.read_parquet") == 1 and 'df = pl.read_parquet("data/raw/in.parquet")' in b
    assert "read_csv" not in b and "scan_csv" not in b


def test_teardown_after_the_main_run_moves_into_main(tmp_path: Path) -> None:
    text = export(
        tmp_path,
        code("import threading\n" + HEAD + "\nserver = threading.Event()\nserver.clear()"),
        code(TASK),
        code(PIPE),
        code("etl.run(n=2)"),
        code("server.close = server.set\n# done with the server\nserver.close()"),
    )
    assert text.rstrip().endswith(
        "    etl.run(n=2)\n    print(etl.last_run.summary())\n    # done with the server\n    server.close()"
    )
    assert "server.clear()" in body(text).split("__main__")[0]  # before the run: stays in place


def test_a_pipeline_never_run_gets_a_local_run(tmp_path: Path) -> None:
    text = export(tmp_path, code(HEAD), code(TASK), code(PIPE))
    assert text.rstrip().endswith('etl.run(mode="local")\n    print(etl.last_run.summary())')


def test_header_names_the_notebook_relatively_and_no_absolute_path(tmp_path: Path) -> None:
    nb = (
        write_notebook(tmp_path / "notebooks" / "nb.ipynb", code(HEAD), code(TASK), code(PIPE))
        if ((tmp_path / "notebooks").mkdir() or True)
        else None
    )
    assert nb is not None
    out = tmp_path / "pipelines" / "etl.py"
    text = export_notebook(nb, out)
    assert out.read_text() == text
    assert "exported from the notebook ../notebooks/nb.ipynb" in text
    assert str(tmp_path) not in text
    assert "outputs" not in text and "execution_count" not in text


def test_deterministic_and_formatted(tmp_path: Path) -> None:
    cells = (code(HEAD), code("x  =  {'a':1}"), code(TASK), code(PIPE), code("etl.run()"))
    first = export(tmp_path, *cells)
    assert export(tmp_path, *cells) == first
    assert 'x = {"a": 1}' in first  # PEP 8 via ruff format
    assert first.endswith("\n") and not first.endswith("\n\n")
    assert all(line == line.rstrip() for line in first.splitlines())
    compile(first, "m.py", "exec")


def test_builtin_formatter_when_ruff_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_EXPORT_FORMATTER", "builtin")
    text = export(tmp_path, code(HEAD + "\n\n\n\nx = 1   "), code(TASK), code(PIPE))
    assert "\n\n\n\n" not in text
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "\n\n\n@local_exec.task()" in text
    compile(text, "m.py", "exec")


def test_writes_only_when_changed(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "nb.ipynb", code(HEAD), code(TASK), code(PIPE))
    out = tmp_path / "m.py"
    export_notebook(nb, out)
    stamp = out.stat().st_mtime_ns
    export_notebook(nb, out)
    assert out.stat().st_mtime_ns == stamp


def test_check_passes_after_export_and_fails_after_an_edit(tmp_path: Path) -> None:
    cells = [code(HEAD), code(TASK), code(PIPE), code("etl.run(n=1)")]
    nb = write_notebook(tmp_path / "nb.ipynb", *cells)
    out = tmp_path / "m.py"
    with pytest.raises(ExportDriftError, match="does not exist") as missing:
        export_notebook(nb, out, check=True)
    assert "+++ " in missing.value.diff
    text = export_notebook(nb, out)
    assert export_notebook(nb, out, check=True) == text
    cells[3] = code("etl.run(n=2)")
    write_notebook(nb, *cells)
    with pytest.raises(ExportDriftError, match="out of date") as stale:
        export_notebook(nb, out, check=True)
    assert "-    etl.run(n=1)" in stale.value.diff and "+    etl.run(n=2)" in stale.value.diff
    assert out.read_text() == text  # check never writes
    with pytest.raises(ExportError, match="give out=PATH"):
        export_notebook(nb, check=True)


def test_accepts_a_notebook_dict(tmp_path: Path) -> None:
    text = export_notebook(notebook(code(HEAD), code(TASK), code(PIPE)))
    assert "exported from the notebook <notebook>" in text


# -- bad input ----------------------------------------------------------------------------
def test_unparsable_cell_names_cell_and_line(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"cell 3, line 2 does not parse: .*'def broken\(:'"):
        export(tmp_path, code(HEAD), markdown("text"), code("x = 1\ndef broken(:\n    pass"), code(PIPE))


def test_unparsable_cell_with_magics_keeps_line_numbers(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"cell 1, line 3 does not parse"):
        export(tmp_path, code("%time x = 1\n!ls\nx = (1,"))


@pytest.mark.parametrize(
    "cells",
    [(), (markdown("# only prose"),), (code(""), code("   \n"))],
    ids=["no-cells", "markdown-only", "blank-code"],
)
def test_empty_notebook(tmp_path: Path, cells: tuple) -> None:
    with pytest.raises(ExportError, match="has no code: there is nothing to export"):
        export(tmp_path, *cells)


def test_no_pipeline(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"defines no pipeline: .*@pipeline\(name="):
        export(tmp_path, code(HEAD), code(TASK))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"is not a valid notebook: not JSON \(line 1"),
        ("[1, 2]", "the JSON is a list, not an object"),
        ('{"nbformat": 4}', "it has no 'cells' list"),
        ('{"nbformat": 99, "cells": []}', "'nbformat' is 99, expected 4"),
        ('{"nbformat": 4, "cells": [{"cell_type": "sql", "source": ""}]}', "cell 1 has cell_type 'sql'"),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]}',
            "cell 1 has a 'source' that is neither",
        ),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "metadata": {"tags": "x"}}]}',
            "'metadata.tags' that is not a list",
        ),
    ],
)
def test_invalid_nbformat(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(content)
    with pytest.raises(ExportError, match=message):
        export_notebook(path)


def test_missing_notebook(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such notebook"):
        export_notebook(tmp_path / "absent.ipynb")


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY"[:40]
AZURE = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0;"


def test_credential_literals_warn_naming_the_cell_but_never_the_secret(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb",
        code(HEAD),
        code(f'key = "AKIAABCDEFGHIJKLMNOP"\nsecret = "{AWS_SECRET}"'),
        code(f'conn = "{AZURE}"'),
        code(TASK),
        code(PIPE),
    )
    with pytest.warns(CredentialWarning) as caught:
        text = export_notebook(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, CredentialWarning)]
    assert any("cell 2, line 1" in m and "AWS access key id" in m for m in messages)
    assert any("cell 2, line 2" in m and "AWS secret access key" in m for m in messages)
    assert any("cell 3, line 1" in m and "AccountKey=" in m for m in messages)
    for m in messages:
        assert AWS_SECRET not in m and "AKIAABCDEFGHIJKLMNOP" not in m and "c2VjcmV0" not in m
    assert "def etl" in text  # the export still succeeds


def test_hex_digests_and_ordinary_strings_do_not_warn(tmp_path: Path) -> None:
    export(
        tmp_path, code(HEAD + '\nsha = "' + "a" * 40 + '"\nname = "AccountName=x"'), code(TASK), code(PIPE)
    )


def test_absolute_path_of_this_machine_warns(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb", code(HEAD + f"\nraw = {str(tmp_path / 'data')!r}"), code(TASK), code(PIPE)
    )
    with pytest.warns(ExportWarning, match="cell 1, line 8: an absolute path on this machine"):
        export_notebook(path)


def test_nbformat_3_notebook_is_converted(tmp_path: Path) -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "input": HEAD, "language": "python", "outputs": [], "metadata": {}},
                    {"cell_type": "code", "input": TASK, "language": "python", "outputs": [], "metadata": {}},
                    {"cell_type": "code", "input": PIPE, "language": "python", "outputs": [], "metadata": {}},
                ],
                "metadata": {},
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat's own notices while converting
        text = export_notebook(path)
    assert "def etl" in text
