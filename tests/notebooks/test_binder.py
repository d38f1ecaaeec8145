"""binder/ (mybinder.org) agrees with pyproject.toml and covers what the notebooks import."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.notebooks.notebook_support import NOTEBOOKS, ROOT, build

BINDER = ROOT / "binder"
#: extras of pyproject.toml that the notebooks need on Binder
EXTRAS = ("aws", "dask", "jupyter")
#: packages of the "dev" extra that a notebook uses itself (02 starts moto's S3 server)
FROM_DEV = ("moto",)


def _key(req: Requirement) -> tuple[str, tuple[str, ...], str]:
    return canonicalize_name(req.name), tuple(sorted(req.extras)), str(req.specifier)


def binder_requirements() -> list[Requirement]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in (ln.split("#", 1)[0].strip() for ln in lines) if line]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def expected() -> list[Requirement]:
    project = pyproject()
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in EXTRAS:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    reqs += [r for r in dev if canonicalize_name(r.name) in FROM_DEV]
    return reqs


def test_binder_requirements_match_pyproject() -> None:
    got = sorted(_key(r) for r in binder_requirements())
    want = sorted(_key(r) for r in expected())
    assert len(got) == len(set(got)), "a requirement is listed twice"
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing, f"in pyproject.toml but not binder/requirements.txt: {missing}"
    assert not extra, f"in binder/requirements.txt but not pyproject.toml ({EXTRAS} + {FROM_DEV}): {extra}"


def test_binder_covers_every_notebook_import() -> None:
    provided: set[str] = set()
    for req in binder_requirements():
        provided.add(canonicalize_name(req.name))
        provided.update(canonicalize_name(e) for e in req.extras)
    dists = packages_distributions()
    for path in build.sources():
        code = "\n".join(body for kind, body in build.cells_from_source(path.read_text()) if kind == "code")
        for module in set(re.findall(r"^(?:from|import) (\w+)", code, flags=re.M)):
            if module in sys.stdlib_module_names or module in ("glacier", "glacier_jupyter"):
                continue
            names = {canonicalize_name(d) for d in dists.get(module, [module])}
            assert names & provided, f"{path.name} imports {module}, which binder/requirements.txt lacks"


def test_post_build_installs_this_checkout_and_the_notebooks_kernel() -> None:
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "repo2docker runs postBuild only when it is executable"
    subprocess.run(["bash", "-n", str(post)], check=True)
    text = post.read_text()
    assert "pip install --no-deps -e ." in text
    assert f"ipykernel install --sys-prefix --name {build.KERNEL_NAME}" in text


def test_binder_link_opens_the_quickstart() -> None:
    docs = (ROOT / "docs" / "notebooks.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/gh/\S+?urlpath=([^\s)]+)", docs)
    assert links and all(link == "lab/tree/notebooks/01_quickstart.ipynb" for link in links)
    assert (NOTEBOOKS / "01_quickstart.ipynb").exists()
