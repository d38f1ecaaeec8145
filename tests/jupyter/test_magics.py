"""The %glacier magic through a real IPython shell (run_line_magic / run_cell)."""

from __future__ import annotations

from urllib.parse import unquote

import polars as pl
import pytest
from IPython.core.error import UsageError

from glacier.errors import PipelineError
from glacier.preview import Preview


def test_load_twice_and_unload(ip):
    ip.run_line_magic("load_ext", "glacier")  # again: harmless
    assert "glacier" in ip.magics_manager.magics["line"]
    ip.run_line_magic("unload_ext", "glacier")
    assert "glacier" not in ip.magics_manager.magics["line"]
    ip.run_line_magic("load_ext", "glacier")
    assert "glacier" in ip.magics_manager.magics["line"]


def test_magic_documents_itself(ip, capsys):
    doc = ip.find_line_magic("glacier").__doc__
    for word in (
        "dag",
        "resources",
        "run",
        "preview",
        "export module",
        "export terraform",
        "--mode",
        "--param",
        "-n",
    ):
        assert word in doc
    ip.run_line_magic("glacier", "preview --help")
    out = capsys.readouterr().out
    assert "glacier preview" in out and "-n N" in out
    ip.run_line_magic("glacier", "export terraform --help")
    assert "--cloud" in capsys.readouterr().out
    ip.run_line_magic("glacier", "help run")
    run_help = capsys.readouterr().out
    assert run_help.startswith("usage: %glacier run") and "--mode" in run_help and "::" not in run_help


def test_help_is_short(ip, capsys):
    ip.run_line_magic("glacier", "help")
    text = capsys.readouterr().out
    assert "::" not in text and len(text.splitlines()) <= 16
    for word in ("dag", "resources", "run", "preview", "export module", "export terraform", "aws|gcp|azure"):
        assert f"%glacier {word}" in text or word in text


def test_dag_in_terminal_is_text(shell):
    shown = shell.run_line_magic("glacier", "dag simple_pipeline")
    bundle = shown._repr_mimebundle_()
    assert "load" in bundle["text/plain"] and "transform  [local]  <- load" in bundle["text/plain"]
    html = unquote(bundle["text/html"])  # the picture is an <img> of SVG data
    assert "<svg" in html and 'data-id="transform"' in html


def test_resources_defaults_to_every_provider(shell, run):
    run("other = Provider(config=LocalConfig(base_path='elsewhere'))")
    bundle = shell.run_line_magic("glacier", "resources")._repr_mimebundle_()
    assert "provider = " in bundle["text/plain"] and "other = " in bundle["text/plain"]
    one = shell.run_line_magic("glacier", "resources provider")._repr_mimebundle_()
    assert "data/input.parquet" in one["text/plain"] and "load, transform" in one["text/plain"]


def test_run_with_params_and_mode(shell, run, capsys):
    run(
        """
@local_exec.task()
def above(df: pl.LazyFrame, threshold: int) -> pl.LazyFrame:
    return df.filter(pl.col("value") > threshold)

@pipeline(name="param")
def param_pipeline(threshold: int = 0):
    return above(load(data_source), threshold)
""",
    )
    result = shell.run_line_magic("glacier", "run param_pipeline --mode local --param threshold=2")
    assert set(result.collect()["value"].unique()) == {3}
    assert shell.user_ns["param_pipeline"].last_run.status == "done"
    assert "param" in capsys.readouterr().out  # the run summary in a terminal
    run("r = %glacier run simple_pipeline")
    assert shell.user_ns["r"].collect().height == run("simple_pipeline.run().collect().height")


def test_preview_forms(shell, run):
    node = shell.run_line_magic("glacier", "preview simple_pipeline.transform -n 3")
    assert isinstance(node, Preview) and node.rows.height == 3 and node.ran == ("load", "transform")
    assert node.rows["value"].min() > 0
    bucket = shell.run_line_magic("glacier", "preview data_source -n 4")
    assert bucket.rows.height == 4 and list(bucket.schema) == ["id", "value"]
    run("lf = pl.LazyFrame({'a': [1, 2, 3]})")
    assert shell.run_line_magic("glacier", "preview lf -n 2").rows.height == 2
    expr = shell.run_line_magic("glacier", "preview lf.filter(pl.col('a') > 1)")
    assert expr.rows["a"].to_list() == [2, 3]
    whole = shell.run_line_magic("glacier", "preview simple_pipeline")
    assert whole.source == "simple.transform" and whole.rows.height == 10
    df = shell.run_line_magic("glacier", "preview data_source.read()")
    assert isinstance(df.rows, pl.DataFrame)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "needs a subcommand"),
        ("launch simple_pipeline", "unknown %glacier subcommand 'launch'"),
        ("dag nothere", "name 'nothere' is not defined"),
        ("dag data_source", "data_source is a Bucket, not a pipeline"),
        ("dag load", "load is a Task, not a pipeline"),
        ("dag", "required: pipeline"),
        ("resources local_exec", "local_exec is an Executor, not a provider"),
        ("run simple_pipeline --mode cloud", "--mode 'cloud' is not a run mode"),
        ("run simple_pipeline --param nope", "--param takes KEY=VALUE, not 'nope'"),
        (
            "run simple_pipeline --param x=1",
            "pipeline 'simple' has no parameter 'x'; its parameters are: none",
        ),
        (
            "run simple_pipline",
            "name 'simple_pipline' is not defined in this notebook (did you mean 'simple_pipeline'?)",
        ),
        ("dag data_sorce", "(did you mean 'data_source'?)"),
        (
            "rnu simple_pipeline",
            "unknown %glacier subcommand 'rnu': use one of dag, resources, run, preview, export, help (did you mean 'run'?)",
        ),
        ("preview simple_pipeline.transfrom", "its tasks are: load, transform (did you mean 'transform'?)"),
        ("preview data_source --param n=1", "--param sets a pipeline's parameters: data_source is a Bucket"),
        ("preview simple_pipeline.nope", "has no task 'nope'; its tasks are: load, transform"),
        ("preview 3 +", "cannot read '3 +'"),
        ("preview local_exec", "cannot preview a Executor"),
        (
            "preview transform",
            "transform is a task, which has no output of its own: preview its output in a pipeline, for example %glacier preview simple_pipeline.transform",
        ),
        ("preview lf_missing", "name 'lf_missing' is not defined"),
        ("preview data_source -n -1", "-n must be 0 or more"),
        ("preview data_source -n many", "invalid int value"),
        ("export", "use `export module PATH`"),
        ("export pdf x", "%glacier export 'pdf'"),
        ("export terraform simple_pipeline out --cloud ibm", "invalid choice"),
        ("help nope", "unknown %glacier subcommand 'nope'"),
    ],
)
def test_user_mistakes_are_one_line_usage_errors(shell, line, message):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("glacier", line)
    text = str(info.value)
    assert message in text
    assert "\n" not in text.strip()


def test_failing_task_is_a_one_line_pipeline_error_not_a_usage_error(shell, run, capsys):
    """A task's own exception is not a mistake in typing the magic: it is shown as the
    one-line PipelineError message (no UsageError, no traceback of the magic)."""
    run(
        """
@local_exec.task()
def explode(df: pl.LazyFrame) -> pl.LazyFrame:
    raise ValueError("bad row 7")

@pipeline(name="broken")
def broken():
    return explode(load(data_source))
""",
    )
    with pytest.raises(
        PipelineError, match="task 'explode' on executor 'local' failed: ValueError: bad row 7"
    ) as info:
        shell.run_line_magic("glacier", "run broken")
    assert not isinstance(info.value, UsageError)
    assert info.value.record is shell.user_ns["broken"].last_run
    assert shell.user_ns["broken"].last_run.failed == ["explode"]
    with pytest.raises(PipelineError, match="preview of broken.explode: task 'explode' failed"):
        shell.run_line_magic("glacier", "preview broken.explode")
    capsys.readouterr()
    result = shell.run_cell("%glacier run broken")
    shown = capsys.readouterr()
    assert isinstance(result.error_in_exec, PipelineError)
    lines = [line for line in (shown.out + shown.err).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("PipelineError: pipeline 'broken' failed: task 'explode' on executor 'local'")
    assert lines[0].endswith("ValueError: bad row 7 (planned, never computed: load) (see broken.last_run)")


def test_missing_pipeline_parameter_in_preview(shell, run):
    run(
        """
@local_exec.task()
def above(df: pl.LazyFrame, threshold: int) -> pl.LazyFrame:
    return df.filter(pl.col("value") > threshold)

@pipeline(name="needs")
def needs(threshold: int):
    return above(load(data_source), threshold)
""",
    )
    with pytest.raises(UsageError, match="threshold"):
        shell.run_line_magic("glacier", "preview needs.above")
    shown = shell.run_line_magic("glacier", "preview needs.above --param threshold=2 -n 5")
    assert shown.rows["value"].to_list() == [3] * 5


def test_run_cell_shows_objects(shell):
    result = shell.run_cell("provider")
    assert result.success
    formatted, _ = shell.display_formatter.format(shell.user_ns["simple_pipeline"])
    assert "text/html" in formatted and "<svg" in unquote(formatted["text/html"])
    assert formatted["text/plain"].startswith("<Pipeline simple()>")


def test_plain_ipython_terminal_shows_text(tmp_path):
    """A real terminal IPython (stdin piped): displays are text, mistakes one line."""
    import os
    import subprocess
    import sys

    session = "\n".join(
        [
            "%load_ext glacier",
            "from glacier import Provider, pipeline",
            "from glacier.config import LocalConfig",
            "import polars as pl",
            f"provider = Provider(config=LocalConfig(base_path={str(tmp_path)!r}))",
            "ex = provider.local()",
            "@ex.task()",
            "def numbers() -> pl.DataFrame:",
            "    return pl.DataFrame({'x': [1, 2, 3]})",
            "",
            "@pipeline(name='nums')",
            "def nums():",
            "    return numbers()",
            "",
            "nums",
            "%glacier preview nums -n 2",
            "%glacier run nums",
            "%glacier dag nope",
            "exit",
            "",
        ]
    )
    env = {**os.environ, "GLACIER_PROGRESS": "0", "GLACIER_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor"],
        input=session,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    out = done.stdout + done.stderr
    assert "<Pipeline nums()>: 1 task on 1 executor, 0 buckets" in out
    assert "Preview of nums.numbers · first 2 row(s), 1 column(s)" in out
    assert "numbers  done" in out
    assert "UsageError: name 'nope' is not defined in this notebook" in out
    assert "Traceback" not in out


def test_export_module_finds_the_notebook_from_the_session(shell, tmp_path, monkeypatch):
    pytest.importorskip("glacier.export", reason="glacier.export (notebook export) is not in this tree yet")
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext glacier"),
        nbformat.v4.new_code_cell(
            "from glacier import Provider, pipeline\nfrom glacier.config import LocalConfig\nimport polars as pl\n"
            "provider = Provider(config=LocalConfig(base_path='./data'))\nex = provider.local()\n"
            "@ex.task()\ndef one() -> pl.DataFrame:\n    return pl.DataFrame({'a': [1]})\n"
            "@pipeline(name='tiny')\ndef tiny():\n    return one()"
        ),
        nbformat.v4.new_code_cell("%glacier run tiny"),
    ]
    nbformat.write(nb, tmp_path / "work.ipynb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(shell.user_ns, "__session__", "projects/demo/work.ipynb")  # path from the server root
    shown = shell.run_line_magic("glacier", "export module tiny_module.py")
    assert "exported work.ipynb -> tiny_module.py" in repr(shown)
    text = (tmp_path / "tiny_module.py").read_text()
    assert "def tiny" in text and "%glacier" not in text
    monkeypatch.delitem(shell.user_ns, "__session__")
    with pytest.raises(UsageError, match="cannot tell which notebook this kernel runs: pass --notebook"):
        shell.run_line_magic("glacier", "export module again.py")
    with pytest.raises(UsageError, match="notebook 'missing.ipynb' not found"):
        shell.run_line_magic("glacier", "export module again.py --notebook missing.ipynb")


def test_export_terraform(shell, tmp_path):
    terraform = pytest.importorskip("glacier.terraform", reason="glacier.terraform is not in this tree yet")
    if not hasattr(terraform, "export"):
        pytest.skip("glacier.terraform.export is not in this tree yet")
    out = tmp_path / "infra"
    shown = shell.run_line_magic("glacier", f"export terraform simple_pipeline {out} --cloud aws")
    assert "main.tf" in repr(shown) and (out / "main.tf").is_file()


def test_loading_the_extension_stays_light():
    """``%load_ext glacier`` imports neither polars nor pydantic (a fresh process)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'glacier')\n"
        "print(sorted(m for m in ('polars', 'pydantic', 'anywidget') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"
