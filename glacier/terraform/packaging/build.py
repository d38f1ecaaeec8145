"""One entry point for every cloud: resolve the pins, fetch the wheels, let the cloud lay
its package out. The cloud's own layout lives in ``glacier/clouds/<cloud>/package.py``."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from glacier.terraform.packaging.pins import Pin, runtime_pins
from glacier.terraform.packaging.wheels import download, glacier_wheel, wheel_name_version

if TYPE_CHECKING:
    from glacier.terraform.plan import Plan

__all__ = ["Artifact", "BuildReport", "Wheels", "build_packages", "site_archive", "MB"]

MB = 1024 * 1024


@dataclass
class Artifact:
    """One built file that the Terraform uploads."""

    path: str  # relative to the Terraform folder
    kind: str
    zipped: int
    unpacked: int
    note: str = ""


@dataclass
class Wheels:
    """The wheels a cloud builder lays out: third-party ones and Glacier's own."""

    third_party: list[Path]
    glacier: Path
    python_version: str
    platform: str

    def key(self) -> str:
        """A digest of every wheel: an unchanged set needs no new archive."""
        digest = hashlib.sha256(f"{self.python_version} {self.platform}".encode())
        for wheel in [*self.third_party, self.glacier]:
            digest.update(wheel.name.encode())
            with open(wheel, "rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()

    def resolved(self) -> list[str]:
        """Every third-party wheel as ``name==version`` (a fully pinned requirements file)."""
        out = []
        for wheel in self.third_party:
            name, version = wheel_name_version(wheel)
            out.append(f"{name.replace('_', '-').lower()}=={version}")
        return sorted(out)


@dataclass
class BuildReport:
    """What was built, how large it is, and what the pins are."""

    cloud: str
    pins: list[Pin]
    artifacts: list[Artifact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"packages for {self.cloud} built in {self.seconds:.1f} s:"]
        for a in self.artifacts:
            size = f"{a.zipped / MB:.1f} MB zipped, {a.unpacked / MB:.1f} MB unpacked"
            lines.append(f"  {a.path} ({a.kind}): {size}" + (f"; {a.note}" if a.note else ""))
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "cloud": self.cloud,
                "pins": [str(p) for p in self.pins],
                "artifacts": [a.__dict__ for a in self.artifacts],
                "notes": self.notes,
            },
            indent=2,
        )


def _builder(cloud: str) -> Callable[..., list[Artifact]]:
    """The cloud's package builder, named in the clouds registry (``clouds/<cloud>/package.py``)."""
    from glacier.clouds.registry import cloud_named

    return cloud_named(cloud).load_package()


def runtime_of(plan: Plan) -> tuple[str, str]:
    """``(python version, architecture)`` of the plan's functions (3.11 on x86_64 by default);
    functions that disagree are an error, since one package serves them all."""
    versions: set[str] = set()
    arches: set[str] = set()
    for ex in plan.executors:
        runtime = getattr(ex.config, "runtime", None)
        if ex.kind in ("local", "serverless") and isinstance(runtime, str):
            digits = "".join(ch for ch in runtime if ch.isdigit())
            versions.add(f"{digits[0]}.{digits[1:]}")
            arches.add(getattr(ex.config, "architecture", "x86_64"))
    if len(versions) > 1 or len(arches) > 1:
        from glacier.errors import ConfigError

        raise ConfigError(
            f"the pipeline's functions use different runtimes ({', '.join(sorted(versions | arches))}): "
            "one package serves every function, so give them one runtime and architecture"
        )
    return (versions.pop() if versions else "3.11"), (arches.pop() if arches else "x86_64")


def build_packages(
    plan: Plan,
    out_dir: str | Path,
    *,
    wheelhouse: str | Path | None = None,
    requirements: tuple[str, ...] = (),
) -> BuildReport:
    """Build every package the Terraform in ``out_dir`` uploads, under ``out_dir/build/``.

    Parameters
    ----------
    plan : Plan
        What is deployed (``glacier.terraform.plan.build_plan``).
    out_dir : path
        The Terraform folder.
    wheelhouse : path, optional
        A local folder of wheels to resolve from instead of the package index.
    requirements : tuple of str
        Extra requirements the pipeline needs (pinned to the installed version unless given).
    """
    from glacier.terraform.packaging.wheels import platform_tag

    started = time.perf_counter()
    out = Path(out_dir)
    house = Path(wheelhouse) if wheelhouse else None
    pins, notes = runtime_pins(plan.cloud, plan.modules, requirements)
    python_version, arch = runtime_of(plan)
    platform = platform_tag(arch)
    with tempfile.TemporaryDirectory(prefix="glacier-build-") as tmp:
        third = download(
            pins, Path(tmp) / "wheels", python_version=python_version, platform=platform, wheelhouse=house
        )
        own = glacier_wheel(Path(tmp) / "own", wheelhouse=house)
        wheels = Wheels(third, own, python_version, platform)
        target = out / "build" / plan.cloud
        target.mkdir(parents=True, exist_ok=True)
        artifacts = _builder(plan.cloud)(plan, wheels, target, out)
        artifacts += _databricks_wheel(plan, wheels, target, out)
    report = BuildReport(plan.cloud, pins, artifacts, notes, time.perf_counter() - started)
    (out / "build" / plan.cloud / "manifest.json").write_text(report.to_json() + "\n", encoding="utf-8")
    return report


def _databricks_wheel(plan: Plan, wheels: Wheels, target: Path, out: Path) -> list[Artifact]:
    """Glacier's wheel, which Databricks jobs install as a library (it is not on the index)."""
    from glacier.config.execution import DatabricksConfig
    from glacier.terraform.base import glacier_wheel_name

    if not any(isinstance(e.config, DatabricksConfig) for e in plan.executors):
        return []
    wheel = target / glacier_wheel_name()
    shutil.copyfile(wheels.glacier, wheel)
    size = wheel.stat().st_size
    return [Artifact(wheel.relative_to(out).as_posix(), "Glacier wheel (Databricks library)", size, size)]


def site_archive(wheels: Wheels, archive: Path) -> tuple[int, int]:
    """Zip every wheel unpacked as a ``site-packages`` folder (Glacier included, with a
    ``.python-version`` naming the Python it was resolved for), the dependency archive VMs
    and clusters put first on ``sys.path``. Rebuilt only when the wheels change.
    Returns ``(zipped, unpacked)`` bytes."""
    from glacier.terraform.packaging.wheels import unpack, zip_tree

    stamp_file = archive.with_name(archive.name + ".key")
    key = wheels.key()
    current = stamp_file.is_file() and stamp_file.read_text(encoding="utf-8").strip() == key
    if not (archive.is_file() and current):
        with tempfile.TemporaryDirectory(prefix="glacier-site-") as tmp:
            root = Path(tmp)
            unpack(wheels.third_party, root)
            unpack([wheels.glacier], root, skip=("glacier_jupyter",))
            (root / ".python-version").write_text(wheels.python_version + "\n", encoding="utf-8")
            zip_tree(root, archive)
        stamp_file.write_text(key + "\n", encoding="utf-8")
    with zipfile.ZipFile(archive) as zf:
        unpacked = sum(i.file_size for i in zf.infolist())
    return archive.stat().st_size, unpacked


def unpacked_cache(target: Path, key: str) -> bool:
    """True when ``target/.key`` says the archives there were built from these wheels."""
    stamp = target / ".key"
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == key


def stamp(target: Path, key: str) -> None:
    (target / ".key").write_text(key + "\n", encoding="utf-8")


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
