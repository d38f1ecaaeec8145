"""What a deployed task needs installed, pinned to the versions of the exporting environment.

Environment parity: the cloud runs the versions this environment runs, so a module that
imports and runs here imports and runs there. The list is Glacier's own requirements (its
core plus the target cloud's extra), every distribution the pipeline modules import, and
any requirement the user declares.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from glacier.errors import ConfigError, MissingDependencyError

__all__ = ["Pin", "DISTRIBUTION", "source_root", "glacier_requirements", "runtime_pins", "constraints"]

#: The name of Glacier's distribution (``glacier`` on the index is another project).
DISTRIBUTION = "glacier-pipelines"
#: The extra that holds each cloud's storage client.
CLOUD_EXTRA = {"aws": "aws", "gcp": "gcp", "azure": "azure"}
_OWN = {"glacier", "glacier_jupyter"}
#: The library each cloud's function runtime loads the entry point with: pinned when installed
#: here (the rehearsal serves the package with it); the runtime brings its own otherwise.
RUNTIME_LIBRARY = {"aws": None, "gcp": "functions-framework", "azure": "azure-functions"}


@dataclass(frozen=True)
class Pin:
    """One pinned requirement: ``name==version`` and why it is there."""

    name: str
    version: str
    why: str

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def source_root() -> Path | None:
    """The source tree ``glacier`` is imported from (a folder with its ``pyproject.toml``), if any."""
    import glacier

    root = Path(glacier.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
    return root if name in (DISTRIBUTION, "glacier") else None


def _own_distribution() -> md.Distribution | None:
    for name in (DISTRIBUTION, "glacier"):
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        requires = " ".join(dist.requires or [])
        if "polars" in requires and "pydantic" in requires:  # ours, not the index's "glacier"
            return dist
    return None


def glacier_requirements(cloud: str) -> list[Requirement]:
    """Glacier's own requirements for ``cloud``: its core plus the cloud's extra."""
    root = source_root()
    if root is not None:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        raw = list(project.get("dependencies", []))
        raw += project.get("optional-dependencies", {}).get(CLOUD_EXTRA[cloud], [])
        reqs = [Requirement(r) for r in raw]
    else:
        dist = _own_distribution()
        if dist is None:
            raise MissingDependencyError(
                f"cannot tell which packages Glacier needs: the {DISTRIBUTION} distribution's metadata "
                f"is missing (install it with pip install '{DISTRIBUTION}[{CLOUD_EXTRA[cloud]}]')"
            )
        env = _target_env("3.11")
        reqs = []
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({**env, "extra": CLOUD_EXTRA[cloud]}):
                reqs.append(req)
    own = {canonicalize_name(DISTRIBUTION), "glacier"}
    return [r for r in reqs if canonicalize_name(r.name) not in own]


def _target_env(python_version: str) -> dict[str, str]:
    env = dict(default_environment())
    env.update(
        python_version=python_version,
        python_full_version=f"{python_version}.0",
        sys_platform="linux",
        platform_system="Linux",
        os_name="posix",
        platform_machine="x86_64",
        implementation_name="cpython",
        platform_python_implementation="CPython",
    )
    return env


def _installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def imported_names(source: str) -> set[str]:
    """Top-level names of the absolute imports in ``source``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def runtime_pins(
    cloud: str, modules: dict[str, str], declared: tuple[str, ...] = ()
) -> tuple[list[Pin], list[str]]:
    """Pinned requirements for a deployed task on ``cloud``, and notes on what was left out.

    Parameters
    ----------
    cloud : {"aws", "gcp", "azure"}
    modules : dict
        The pipeline modules shipped with the deployment: ``{module name: source}``.
    declared : tuple of str
        Requirements the user adds (``"scikit-learn==1.5.2"``); kept as written when pinned,
        pinned to the installed version otherwise.
    """
    pins: dict[str, Pin] = {}
    notes: list[str] = []
    extra = CLOUD_EXTRA[cloud]
    for req in glacier_requirements(cloud):
        version = _installed(req.name)
        if version is None:
            raise MissingDependencyError(
                f"Glacier on {cloud} needs {req.name}, which is not installed here, so its version "
                f"cannot be pinned: pip install '{DISTRIBUTION}[{extra}]'"
            )
        pins[canonicalize_name(req.name)] = Pin(req.name, version, f"{DISTRIBUTION}[{extra}]")
    library = RUNTIME_LIBRARY[cloud]
    if library is not None:
        version = _installed(library)
        if version is None:
            notes.append(f"{library} is not installed here: the function runtime's own version is used")
        else:
            pins[canonicalize_name(library)] = Pin(library, version, f"{cloud} function runtime")
    mapping = md.packages_distributions()
    for module, source in modules.items():
        for name in sorted(imported_names(source)):
            if name in sys.stdlib_module_names or name in _OWN or name in modules or name == "__future__":
                continue
            dists = mapping.get(name)
            if not dists:
                notes.append(
                    f"module {module} imports {name}, which is neither installed nor a pipeline module: "
                    "it is not packaged"
                )
                continue
            dist = dists[0]
            key = canonicalize_name(dist)
            if key not in pins and key not in {canonicalize_name(DISTRIBUTION), "glacier"}:
                pins[key] = Pin(dist, md.version(dist), f"imported by {module}")
    for text in declared:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise ConfigError(
                f"requirement {text!r} is not a valid requirement ({exc}): write it as pip would, "
                "for example 'scikit-learn==1.5.2'"
            ) from None
        pinned = [s.version for s in req.specifier if s.operator == "=="]
        version = pinned[0] if pinned else _installed(req.name)
        if version is None:
            raise MissingDependencyError(
                f"declared requirement {text!r} has no '==' version and is not installed here: "
                f"pin it ({req.name}==X.Y) or install it"
            )
        pins[canonicalize_name(req.name)] = Pin(req.name, version, "declared")
    return [pins[k] for k in sorted(pins)], notes


def constraints() -> str:
    """Every distribution installed here as ``name==version``: pip keeps the transitive
    dependencies of the pins at the versions this environment runs."""
    seen: dict[str, str] = {}
    for dist in md.distributions():  # in sys.path order: the first one is the one imported
        name, version = dist.metadata["Name"], dist.version
        if not name or not version or "+" in version:
            continue
        seen.setdefault(canonicalize_name(name), version)
    for own in ("glacier", canonicalize_name(DISTRIBUTION)):
        seen.pop(own, None)
    return "".join(f"{name}=={seen[name]}\n" for name in sorted(seen))
