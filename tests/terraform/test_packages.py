"""Deployment packages: complete, pinned to this environment, importable in isolation.

Wheels come from the package index through pip (its cache makes repeats fast), resolved
for the function runtime (manylinux, CPython 3.11), as ``glacier terraform --out`` builds them.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from glacier.terraform.packaging import PackageBuildError, build_packages
from glacier.terraform.packaging.pins import runtime_pins
from glacier.terraform.plan import build_plan
from tests.helpers import load_example

example2_heterogeneous = load_example("example2_heterogeneous")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def aws_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("aws")
    plan = build_plan(example2_heterogeneous.ml_pipeline)
    return plan, out, build_packages(plan, out)


def _isolated(paths: list[Path], code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python that sees only the stdlib and ``paths`` (no site-packages)."""
    boot = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n" + code
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", boot], capture_output=True, text=True, env={}, check=False
    )


def test_aws_layer_holds_every_dependency_and_glacier(aws_build, tmp_path):
    plan, out, report = aws_build
    layer = out / "build" / "aws" / "layer.zip"
    names = zipfile.ZipFile(layer).namelist()
    assert all(n.startswith("python/") for n in names)
    tops = {n.split("/")[1] for n in names}
    for package in ("glacier", "polars", "s3fs", "pydantic", "fsspec", "boto3"):
        assert package in tops, package
    assert "glacier_jupyter" not in tops
    zipfile.ZipFile(layer).extractall(tmp_path / "opt")
    src = tmp_path / "task"
    src.mkdir()
    from glacier.terraform.handler import handler_source

    (src / "glacier_handler.py").write_text(handler_source(list(plan.modules)))
    for module, text in plan.modules.items():
        (src / f"{module}.py").write_text(text)
    proc = _isolated(
        [src, tmp_path / "opt" / "python"],
        "import glacier_handler, s3fs, polars\n"
        "print(glacier_handler._pipeline('ml_inference').name, polars.__version__)\n"
        "try:\n    import IPython\nexcept ImportError:\n    print('isolated')\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ml_inference", md.version("polars"), "isolated"]


def test_aws_sizes_are_measured_against_the_limits(aws_build):
    _, out, report = aws_build
    (layer,) = [a for a in report.artifacts if a.path == "build/aws/layer.zip"]
    assert 0 < layer.zipped < layer.unpacked <= 250 * 1024 * 1024
    assert "of Lambda's 250 MB unpacked limit" in layer.note
    if layer.zipped > 50 * 1024 * 1024:
        assert "publishes the layer from there" in layer.note
    manifest = json.loads((out / "build" / "aws" / "manifest.json").read_text())
    assert manifest["artifacts"][0]["unpacked"] == layer.unpacked


def test_pins_are_the_installed_versions_and_never_the_other_glacier(aws_build):
    _, out, report = aws_build
    pins = {p.name: p.version for p in report.pins}
    for name in ("polars", "pydantic", "fsspec", "s3fs"):
        assert pins[name] == md.version(name)
    lines = (out / "build" / "aws" / "requirements.txt").read_text().split()
    assert f"polars=={md.version('polars')}" in lines
    assert any(line.startswith("polars-runtime-") for line in lines)  # polars 2 needs its runtime
    assert all("==" in line for line in lines)
    assert not any(line.split("==")[0] in ("glacier", "glacier-pipelines") for line in lines)


def test_a_layer_over_the_limit_is_a_clear_error(aws_build, monkeypatch, tmp_path):
    import glacier.clouds.aws.package as aws_package

    plan, out, _ = aws_build
    monkeypatch.setattr(aws_package, "UNZIPPED_LIMIT", 10 * 1024 * 1024)
    with pytest.raises(PackageBuildError, match=r"is \d+\.\d MB unpacked .* container image"):
        build_packages(plan, out)


def test_user_module_imports_are_pinned_and_unknown_ones_noted():
    source = "import polars as pl\nimport yaml\nfrom notinstalledanywhere import x\nimport json\n"
    pins, notes = runtime_pins("aws", {"mod": source}, ("pytest",))
    names = {p.name.lower(): p for p in pins}
    assert names["pyyaml"].version == md.version("pyyaml")
    assert names["pyyaml"].why == "imported by mod"
    assert names["pytest"].version == md.version("pytest")
    assert "json" not in names
    assert any("notinstalledanywhere" in n for n in notes)


@pytest.fixture(scope="module")
def gcp_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("gcp")
    plan = build_plan(example2_heterogeneous.ml_pipeline, cloud="gcp")
    return plan, out, build_packages(plan, out)


def test_gcp_source_archive_has_main_and_pinned_requirements(gcp_build):
    _, out, report = gcp_build
    archive = zipfile.ZipFile(out / "build" / "gcp" / "source.zip")
    names = set(archive.namelist())
    assert {"main.py", "glacier_handler.py", "example2_heterogeneous.py", "requirements.txt"} <= names
    assert "glacier/__init__.py" in names
    reqs = archive.read("requirements.txt").decode().split()
    assert f"gcsfs=={md.version('gcsfs')}" in reqs and f"polars=={md.version('polars')}" in reqs
    assert not any(r.split("==")[0] in ("glacier", "glacier-pipelines") for r in reqs)
    assert "main.py" in report.artifacts[0].kind


def test_azure_function_app_is_a_v2_app_with_pinned_requirements(tmp_path):
    plan = build_plan(example2_heterogeneous.ml_pipeline, cloud="azure")
    build_packages(plan, tmp_path)
    archive = zipfile.ZipFile(tmp_path / "build" / "azure" / "function_app.zip")
    names = set(archive.namelist())
    assert {"function_app.py", "host.json", "requirements.txt", "glacier_handler.py"} <= names
    assert "@app.route(" in archive.read("function_app.py").decode()
    host = json.loads(archive.read("host.json"))
    assert host["version"] == "2.0"
    reqs = archive.read("requirements.txt").decode().split()
    assert f"adlfs=={md.version('adlfs')}" in reqs
    assert f"azure-functions=={md.version('azure-functions')}" in reqs


def test_a_local_wheelhouse_resolves_without_the_index(gcp_build, tmp_path):
    plan, out, _ = gcp_build
    house = tmp_path / "house"
    reqs = out / "build" / "gcp" / "requirements.txt"
    for args in (["-r", str(reqs), "--no-deps", "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
                  "--python-version", "3.11", "--implementation", "cp"], ["hatchling"]):  # fmt: skip
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d", str(house), *args], check=True)
    report = build_packages(plan, tmp_path / "gcp", wheelhouse=house)
    assert report.artifacts[0].path == "build/gcp/source.zip"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PackageBuildError, match="resolving the packages for Python 3.11"):
        build_packages(plan, tmp_path / "none", wheelhouse=empty)
