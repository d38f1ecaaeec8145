"""Wheels for a function runtime: downloaded with pip for the target platform, unpacked, zipped.

pip resolves for the runtime, not for this machine: ``--only-binary=:all: --platform
manylinux2014_x86_64 --python-version 3.11 --implementation cp``. pip's cache makes a
repeated build fast; ``wheelhouse`` points at a local folder of wheels instead of the index.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from glacier.errors import GlacierError
from glacier.terraform.packaging.pins import Pin, constraints, source_root

__all__ = [
    "PackageBuildError",
    "platform_tag",
    "download",
    "glacier_wheel",
    "unpack",
    "tree_size",
    "zip_tree",
    "wheel_name_version",
]


class PackageBuildError(GlacierError):
    """A deployment package could not be built (pip failed, or the package is too large)."""


def platform_tag(architecture: str = "x86_64") -> str:
    """pip's ``--platform`` for a Linux runtime of ``architecture``."""
    return {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}[architecture]


def _pip(args: Sequence[str], what: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        raise PackageBuildError(f"{what} failed (pip exit {proc.returncode}):\n{tail}")


def _index_args(wheelhouse: Path | None) -> list[str]:
    return ["--no-index", "--find-links", str(wheelhouse)] if wheelhouse else []


def download(
    pins: Iterable[Pin],
    dest: Path,
    *,
    python_version: str,
    platform: str,
    wheelhouse: Path | None = None,
) -> list[Path]:
    """Download the wheels of ``pins`` and their dependencies for the runtime into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="glacier-pip-") as tmp:
        cons = Path(tmp) / "constraints.txt"
        cons.write_text(constraints(), encoding="utf-8")
        _pip(
            [
                "download",
                "--only-binary=:all:",
                "--platform", platform,
                "--python-version", python_version,
                "--implementation", "cp",
                "--progress-bar", "off",
                "-q",
                "-d", str(dest),
                "-c", str(cons),
                *_index_args(wheelhouse),
                *(str(p) for p in pins),
            ],
            f"resolving the packages for Python {python_version} on {platform}",
        )  # fmt: skip
    return sorted(dest.glob("*.whl"))


def glacier_wheel(dest: Path, *, wheelhouse: Path | None = None) -> Path:
    """Glacier's own wheel (it is not on the index): built from the source tree it is
    imported from, or rebuilt from the installed files."""
    dest.mkdir(parents=True, exist_ok=True)
    root = source_root()
    if root is not None:
        with tempfile.TemporaryDirectory(prefix="glacier-wheel-") as tmp:
            _pip(
                ["wheel", "--no-deps", "-q", "-w", tmp, *_index_args(wheelhouse), str(root)],
                f"building Glacier's wheel from {root}",
            )
            (built,) = Path(tmp).glob("*.whl")
            target = dest / built.name
            shutil.move(str(built), target)
            return target
    return _wheel_from_installed(dest)


def _wheel_from_installed(dest: Path) -> Path:
    import glacier

    site = Path(glacier.__file__).resolve().parent.parent
    target = dest / f"glacier_pipelines-{glacier.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for package in ("glacier", "glacier_jupyter"):
            for path in sorted((site / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zf.write(path, path.relative_to(site).as_posix())
    return target


def wheel_name_version(wheel: Path) -> tuple[str, str]:
    """``("polars", "2.1.0")`` from ``polars-2.1.0-py3-none-any.whl``."""
    name, version = wheel.name.split("-")[:2]
    return name, version


def unpack(wheels: Iterable[Path], target: Path, *, skip: tuple[str, ...] = ()) -> None:
    """Install ``wheels`` into ``target`` as pip would for a ``--target`` install: purelib and
    platlib at the top, ``.dist-info`` kept (``importlib.metadata`` works), scripts dropped;
    top-level folders named in ``skip`` are left out."""
    target.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                name = info.filename
                if info.is_dir():
                    continue
                top, _, rest = name.partition("/")
                if top.endswith(".data"):
                    kind, _, inner = rest.partition("/")
                    if kind not in ("purelib", "platlib") or not inner:
                        continue
                    name = inner
                if name.split("/", 1)[0] in skip:
                    continue
                out = target / name
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)


def tree_size(root: Path) -> int:
    """Bytes of every file below ``root``."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def zip_tree(root: Path, archive: Path, *, prefix: str = "") -> str:
    """Zip ``root`` into ``archive`` (files under ``prefix``), deterministic: sorted names,
    fixed timestamps. Returns the archive's sha256."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own: two builds of the same layer (two processes) must not share it
    tmp = archive.with_name(f".{archive.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            info = zipfile.ZipInfo(f"{prefix}{rel}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o644 if not os.access(path, os.X_OK) else 0o755) << 16
            with open(path, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(tmp, archive)
    digest = hashlib.sha256()
    with open(archive, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
