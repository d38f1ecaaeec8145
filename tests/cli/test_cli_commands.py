"""The ``glacier`` command line, run in a subprocess: subcommands, help, and user mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest

import glacier

Run = Callable[..., subprocess.CompletedProcess[str]]

ROOT = Path(__file__).parent.parent.parent
SAMPLE = ROOT / "tests" / "export" / "notebooks" / "sales.ipynb"


def one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    err = done.stderr.strip()
    assert "\n" not in err, err
    assert err.startswith("glacier: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


# -- help and version ---------------------------------------------------------------------
def test_version(glacier: Run) -> None:
    done = glacier("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"glacier {glacier_version()}"


def glacier_version() -> str:
    return glacier.__version__


@pytest.mark.parametrize(
    "command",
    [[], ["run"], ["dag"], ["terraform"], ["rehearse"], ["export"]],
    ids=lambda c: c[0] if c else "glacier",
)
def test_help(glacier: Run, command: list[str]) -> None:
    done = glacier(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: glacier")
    if not command:
        for sub in ("run", "dag", "terraform", "rehearse", "export"):
            assert sub in done.stdout


def test_no_command_prints_usage_and_fails(glacier: Run) -> None:
    done = glacier()
    assert done.returncode == 1
    assert "usage: glacier" in done.stderr


def test_help_does_not_import_polars() -> None:
    code = "import sys; from glacier.cli import build_parser; build_parser(); print('polars' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# -- run ----------------------------------------------------------------------------------
def test_run_file_target_with_params_and_summary(glacier: Run, workdir: Path) -> None:
    done = glacier(
        "run",
        "pipes.py:numbers",
        "--param",
        "n=4",
        "-p",
        "scale=0.5",
        "-p",
        "flag=yes",
        "-p",
        "label=7",
        "--show",
        "10",
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "of 'numbers' (local): done" in out
    assert "make" in out and "double" in out and "4 rows" in out
    # converted to the parameters' types: 4 rows, x = i * 0.5 * 2, flag True, label the text "7"
    assert "true" in out and "3.0" in out
    assert "bool" in out and "str" in out  # the dtypes row: flag is a bool, label stays text


def test_run_dotted_module_and_pipeline_by_name(glacier: Run, workdir: Path) -> None:
    done = glacier("run", "pipes:numbers", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "numbers" in done.stdout
    single = glacier("run", "single", "--mode", "distributed", cwd=workdir)  # the only pipeline
    assert single.returncode == 0, single.stderr
    assert "(distributed): done" in single.stdout


DASK_MODULE = """\
import polars as pl

from glacier import Provider, pipeline
from glacier.config import DaskConfig, LocalConfig

provider = Provider(config=LocalConfig(base_path="./data"))
cluster = provider.cluster(config=DaskConfig(n_workers=1))


@cluster.task()
def make(n: int) -> pl.LazyFrame:
    return pl.LazyFrame({"i": list(range(n))})


@pipeline(name="on_dask")
def on_dask(n: int = 3):
    return make(n)
"""


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_run_distributed_on_dask_from_a_file_module(glacier: Run, tmp_path: Path) -> None:
    """Dask workers import the module by name: the CLI puts its folder on their path."""
    sub = tmp_path / "jobs"
    sub.mkdir()
    (sub / "dask_jobs.py").write_text(DASK_MODULE)
    done = glacier("run", "jobs/dask_jobs.py:on_dask", "--mode", "distributed", "-p", "n=5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "of 'on_dask' (distributed): done" in done.stdout
    assert "5 rows" in done.stdout


def test_run_verbose_flag_before_or_after_the_command(glacier: Run, workdir: Path) -> None:
    for args in (["-v", "run", "pipes.py:nope"], ["run", "pipes.py:nope", "-v"]):
        done = glacier(*args, cwd=workdir)
        assert done.returncode == 1
        assert "Traceback" in done.stderr
        assert (
            done.stderr.strip().splitlines()[-1].startswith("glacier: error: module pipes.py has no pipeline")
        )


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "nosuchmodule:etl"], ["cannot import module 'nosuchmodule'"]),
        (["run", "missing.py:etl"], ["no such file: missing.py"]),
        (["run", "pipes.py:nope"], ["has no pipeline 'nope'", "numbers", "broken_pipeline (broken)"]),
        (["run", "pipes.py:NOT_A_PIPELINE"], ["is a int, not a pipeline"]),
        (["run", "pipes.py:pl"], ["is a module, not a pipeline"]),
        (["run", "pipes.py"], ["defines several pipelines"]),
        (
            ["run", "raises.py:x"],
            ["importing raises.py failed: ZeroDivisionError: division by zero at import"],
        ),
        (
            ["run", "pipes.py:numbers", "-p", "size=3"],
            ["has no parameter 'size'; its parameters are: n, scale, flag, label"],
        ),
        (["run", "pipes.py:numbers", "-p", "n=three"], ["'three' is not a valid int (parameter 'n'"]),
        (["run", "pipes.py:numbers", "-p", "flag=maybe"], ["'maybe' is not a valid bool"]),
        (["run", "pipes.py:numbers", "-p", "n"], ["--param takes KEY=VALUE, not 'n'"]),
        (
            ["run", "pipes.py:numbers", "--mode", "cloud"],
            ["--mode 'cloud' is not a run mode: use one of local"],
        ),
        (["run", "pipes.py:nubmers"], ["has no pipeline 'nubmers'", "(did you mean 'numbers'?)"]),
        (["run", "pipes.py:numbers", "-p", "scael=2"], ["no parameter 'scael'", "(did you mean 'scale'?)"]),
        (["terraform", "pipes.py:numbers", "--out", "x", "--cloud", "ibm"], ["invalid choice: 'ibm'"]),
        (["dag", "pipes.py:numbers", "--svg", "a.svg", "--html", "b.html"], ["not allowed with argument"]),
        (["launch"], ["invalid choice: 'launch'"]),
        (["run", "bad name!"], ["is neither a dotted module name nor a path"]),
    ],
    ids=lambda v: (
        v[1] if isinstance(v, list) and v and isinstance(v[0], str) and v[0] in ("run", "dag") else None
    ),
)
def test_user_mistakes_give_one_line_and_exit_1(
    glacier: Run, workdir: Path, args: list[str], fragments: list[str]
) -> None:
    one_line_error(glacier(*args, cwd=workdir), *fragments)


def test_failing_task_prints_summary_and_one_line(glacier: Run, workdir: Path) -> None:
    done = glacier("run", "pipes.py:broken", cwd=workdir)
    one_line_error(done, "task 'explode'", "boom in explode")
    assert "failed" in done.stdout and "explode" in done.stdout  # the summary table


# -- dag ----------------------------------------------------------------------------------
def test_dag_text_svg_and_html(glacier: Run, workdir: Path) -> None:
    text = glacier("dag", "pipes.py:numbers", cwd=workdir)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("pipeline numbers: 2 tasks on 1 executor, 0 buckets\n")
    assert "double  [local]  <- make" in text.stdout

    svg = glacier("dag", "pipes.py:numbers", "--svg", "out/dag.svg", cwd=workdir)
    assert svg.returncode == 0, svg.stderr
    root = ET.parse(workdir / "out" / "dag.svg").getroot()
    assert root.tag.endswith("svg")
    content = (workdir / "out" / "dag.svg").read_text()
    assert "make" in content and "double" in content
    assert "<title>pipeline numbers</title>" in content

    page = glacier("dag", "pipes.py:numbers", "--html", "dag.html", cwd=workdir)
    assert page.returncode == 0, page.stderr
    html = (workdir / "dag.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "double" in html


def test_cli_svg_is_the_display_renderer(
    workdir: Path, glacier: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`glacier dag --svg` writes what a pipeline's display draws: one DAG renderer."""
    from glacier.cli import load_pipeline
    from glacier.display.dag import dag_svg, layout

    monkeypatch.syspath_prepend(str(workdir))  # as `glacier dag` run in workdir
    pipe = load_pipeline(str(workdir / "pipes.py") + ":numbers")
    assert {n: node.layer for n, node in layout(pipe.graph).nodes.items()} == {"make": 0, "double": 1}
    svg = dag_svg(pipe.graph, title="pipeline numbers")
    assert glacier("dag", "pipes.py:numbers", "--svg", "d.svg", cwd=workdir).returncode == 0
    assert (workdir / "d.svg").read_text() == svg + "\n"
    assert dag_svg(pipe.graph) in unquote(pipe._repr_mimebundle_()["text/html"])  # an <img> of SVG data
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert [g.get("data-id") for g in root.iter(f"{ns}g")] == ["make", "double"]
    assert [(p.get("data-from"), p.get("data-to")) for p in root.iter(f"{ns}path") if p.get("data-from")] == [
        ("make", "double")
    ]


# -- export -------------------------------------------------------------------------------
def test_export_check_passes_after_export_and_fails_after_an_edit(glacier: Run, tmp_path: Path) -> None:
    nb = tmp_path / "sales.ipynb"
    nb.write_bytes(SAMPLE.read_bytes())
    missing = glacier("export", "sales.ipynb", "-o", "pipelines/sales.py", "--check", cwd=tmp_path)
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr

    done = glacier("export", "sales.ipynb", "-o", "pipelines/sales.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pipelines" / "sales.py").is_file()

    ok = glacier("export", "sales.ipynb", "-o", "pipelines/sales.py", "--check", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "up to date" in ok.stdout

    data = json.loads(nb.read_text())
    data["cells"][-1]["source"] = "report_pipeline.run(min_amount=2.0, progress=False)"
    nb.write_text(json.dumps(data))
    stale = glacier("export", "sales.ipynb", "-o", "pipelines/sales.py", "--check", cwd=tmp_path)
    assert stale.returncode == 1
    assert "-    report_pipeline.run(min_amount=1.0)" in stale.stdout
    assert "+    report_pipeline.run(min_amount=2.0)" in stale.stdout
    assert (
        "out of date" in stale.stderr and "glacier export sales.ipynb -o pipelines/sales.py" in stale.stderr
    )


def test_export_to_stdout_and_pipeline_choice(glacier: Run, tmp_path: Path) -> None:
    done = glacier("export", str(SAMPLE), "--pipeline", "revenue", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(
        'revenue_pipeline.run(mode="local", min_amount=5.0)\n    print(revenue_pipeline.last_run.summary())'
    )
    compile(done.stdout, "m.py", "exec")


def test_exported_module_runs_with_glacier_run(glacier: Run, tmp_path: Path) -> None:
    (tmp_path / "sales.ipynb").write_bytes(SAMPLE.read_bytes())
    assert glacier("export", "sales.ipynb", "-o", "sales_pipeline.py", cwd=tmp_path).returncode == 0
    done = glacier("run", "sales_pipeline.py:revenue", "-p", "min_amount=5", "--show", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "of 'revenue' (local): done" in done.stdout
    assert "17.5" in done.stdout  # eu: 10 + 7.5
    script = subprocess.run(
        [sys.executable, "sales_pipeline.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert script.returncode == 0, script.stderr
    assert "of 'report' (local): done" in script.stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{oops", "is not a valid notebook: not JSON"),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": "x = ("}]}',
            "cell 1, line 1 does not parse",
        ),
        ('{"nbformat": 4, "cells": []}', "has no code"),
        ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": "x = 1"}]}', "defines no pipeline"),
    ],
)
def test_export_bad_notebooks(glacier: Run, tmp_path: Path, content: str, fragment: str) -> None:
    (tmp_path / "bad.ipynb").write_text(content)
    one_line_error(glacier("export", "bad.ipynb", "-o", "m.py", cwd=tmp_path), fragment)
    assert not (tmp_path / "m.py").exists()


def test_export_mistakes(glacier: Run, tmp_path: Path) -> None:
    one_line_error(glacier("export", "absent.ipynb", cwd=tmp_path), "no such notebook: absent.ipynb")
    one_line_error(glacier("export", str(SAMPLE), "--check", cwd=tmp_path), "--check compares")
    one_line_error(glacier("export", str(SAMPLE), "--pipeline", "zzz", cwd=tmp_path), "no pipeline 'zzz'")


def test_export_warns_about_credentials_on_stderr(glacier: Run, tmp_path: Path) -> None:
    data = json.loads(SAMPLE.read_text())
    secret = "AccountKey=" + "Zm9vYmFyYmF6" * 4
    data["cells"].insert(
        2,
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": f'conn = "{secret}"',
        },
    )
    (tmp_path / "nb.ipynb").write_text(json.dumps(data))
    done = glacier("export", "nb.ipynb", "-o", "m.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        "glacier: warning: nb.ipynb cell 3, line 1: a literal looks like an Azure storage connection string"
        in done.stderr
    )
    assert "Zm9vYmFyYmF6" not in done.stderr


# -- terraform ----------------------------------------------------------------------------
AWS_MODULE = """\
import polars as pl

from glacier import Provider, pipeline
from glacier.config import AwsConfig, LambdaConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
fn = provider.serverless(config=LambdaConfig(memory=512))
raw = provider.bucket(bucket="lake", path="raw.parquet")


@fn.task()
def load(source) -> pl.LazyFrame:
    return source.scan()


@pipeline(name="etl")
def etl():
    return load(raw)
"""


def test_terraform(glacier: Run, workdir: Path) -> None:
    (workdir / "aws_pipes.py").write_text(AWS_MODULE)
    done = glacier("terraform", "aws_pipes.py:etl", "--out", "infra", "--no-packages", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert not (workdir / "infra" / "build").exists()
    written = sorted(p.name for p in (workdir / "infra").rglob("*.tf"))
    assert "main.tf" in written
    assert "wrote" in done.stdout
    assert "aws_" in (workdir / "infra" / "main.tf").read_text()
    gcp = glacier("terraform", "aws_pipes.py:etl", "--out", "infra-gcp", "--cloud", "gcp", cwd=workdir)
    assert gcp.returncode == 0, gcp.stderr
    assert "google_" in (workdir / "infra-gcp" / "main.tf").read_text()
    assert (workdir / "infra-gcp" / "build" / "gcp" / "source.zip").is_file()  # the packages too
    assert "packages for gcp built in" in gcp.stdout
    one_line_error(glacier("terraform", "pipes.py:zzz", "--out", "infra", cwd=workdir), "no pipeline 'zzz'")


def test_lazy_package_attributes_stay_right_after_submodule_imports() -> None:
    """`glacier` loads Provider/pipeline on first use (fast CLI start); the names still
    mean the class and the decorator, whatever was imported first."""
    code = (
        "import sys, glacier; assert 'polars' not in sys.modules\n"
        "import glacier.pipelines, glacier.provider\n"
        "from glacier import Pipeline, Provider, pipeline\n"
        "assert callable(pipeline) and not isinstance(pipeline, type(sys))\n"
        "assert glacier.pipeline is pipeline and Provider.__name__ == 'Provider' and Pipeline.__name__ == 'Pipeline'\n"
        "ns = {}; exec('from glacier import *', ns); assert ns['pipeline'] is pipeline\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
