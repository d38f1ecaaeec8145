"""The distribution is named ``glacier-pipelines``: ``glacier`` on the package index is another
project, so nothing in the repository may tell a user (or a generated requirements file) to
install ``glacier``."""

from __future__ import annotations

import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.helpers import ROOT, load_example

NAME = "glacier-pipelines"
#: text files a user reads or a tool installs from
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ipynb", ".sh", ".yml", ".yaml", ".json", ".js", ""}
#: `glacier` used as a distribution name: `pip install glacier`, `"glacier[aws]"`, `glacier>=0.1`
WRONG = [
    re.compile(r"pip install\s+(?:-\S+\s+)*[\"'`]?glacier(?![\w-])"),
    re.compile(r"(?<![\w/.-])glacier\[[a-z,]+\]"),
    re.compile(r"^\s*glacier\s*(?:[<>=!~]=?[\w.*]+)?\s*$", re.M),
]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _repository_files() -> list[Path]:
    """The tracked files of the checkout (every file outside build and tool folders without git)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
        paths = [ROOT / p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", ".venv-checkov", ".cache", "node_modules", ".glacier", "build", "dist"}
        paths = [p for p in ROOT.rglob("*") if not skip & set(p.relative_to(ROOT).parts)]
    return [p for p in paths if p.is_file() and p.suffix in TEXT_SUFFIXES]


def test_pyproject_names_the_distribution_glacier_pipelines() -> None:
    project = _pyproject()["project"]
    assert project["name"] == NAME
    assert project["scripts"] == {"glacier": "glacier.cli:main"}
    assert _pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "glacier",
        "glacier_jupyter",
    ]


def test_extras_refer_to_the_distribution_by_its_own_name() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    for extra, reqs in extras.items():
        for req in map(Requirement, reqs):
            assert req.name != "glacier", (
                f"extra {extra!r} asks for {req}: the index's 'glacier' is another project"
            )
    (everything,) = (Requirement(r) for r in extras["all"])
    assert everything.name == NAME
    assert everything.extras == set(extras) - {"all", "dev"}, "`all` misses an extra"
    assert "lineage" in everything.extras


def test_no_file_tells_a_user_to_install_glacier_from_the_index() -> None:
    found = []
    for path in _repository_files():
        if path == Path(__file__):
            continue
        text = path.read_text(errors="replace")
        for pattern in WRONG:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group().strip()}")
    assert not found, "install hints naming 'glacier' (use 'glacier-pipelines'):\n" + "\n".join(found)


def test_the_patterns_catch_what_they_are_for() -> None:
    bad = ['pip install "glacier[aws]"', "pip install glacier", "pip install -U glacier", "glacier\npolars\n"]
    good = [
        'pip install "glacier-pipelines[aws]"',
        "%load_ext glacier",
        "glacier.cli:main",
        "glacier-pipelines\n",
    ]
    assert all(any(p.search(text) for p in WRONG) for text in bad)
    assert not any(p.search(text) for p in WRONG for text in good)


def test_missing_extra_error_names_the_distribution() -> None:
    from glacier.errors import MissingDependencyError, require

    with pytest.raises(MissingDependencyError, match=re.escape('pip install "glacier-pipelines[aws]"')):
        require("glacier_no_such_module", "aws", "S3 storage")


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_generated_requirements_never_ask_the_index_for_glacier(cloud: str) -> None:
    from glacier.terraform import render

    files = render(load_example("example2_heterogeneous").ml_pipeline, cloud=cloud)
    lines = [line for line in files["src/requirements.txt"].splitlines() if line.strip() and line[0] != "#"]
    names = {Requirement(line).name for line in lines}
    # neither name: "glacier" on the index is another project and glacier-pipelines is not
    # published, so the packages under build/ vendor Glacier itself
    assert "polars" in names and "glacier" not in names and NAME not in names


def test_installed_distribution_provides_the_packages_and_the_command() -> None:
    try:
        dist = metadata.distribution(NAME)
    except metadata.PackageNotFoundError:
        legacy = metadata.distribution("glacier")  # an install made before the rename
        pytest.skip(
            f"this environment holds the pre-rename install {legacy.metadata['Name']!r}: `make test` reinstalls"
        )
    assert dist.metadata["Name"] == NAME
    assert {(e.group, e.name, e.value) for e in dist.entry_points} >= {
        ("console_scripts", "glacier", "glacier.cli:main")
    }
