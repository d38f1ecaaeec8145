"""AWS deployment package: one Lambda layer holding every dependency and Glacier itself.

Lambda unpacks a layer into ``/opt``, and ``/opt/python`` is on the function's ``sys.path``;
the function's own zip (the pipeline modules and ``glacier_handler.py``) is Terraform's
``archive_file`` of ``src/``. Limits: 250 MB unpacked for code plus layers; a layer zip over
50 MB cannot be uploaded directly, so the Terraform publishes it from the artifacts bucket.
EC2 instances download the same layer at start-up, so they run the same versions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from glacier.terraform.packaging.build import MB, Artifact, Wheels, stamp, unpacked_cache
from glacier.terraform.packaging.wheels import PackageBuildError, unpack, zip_tree

if TYPE_CHECKING:
    from glacier.terraform.plan import Plan

__all__ = ["build", "LAYER", "UNZIPPED_LIMIT", "DIRECT_UPLOAD_LIMIT", "code_size", "layer_cache"]

#: The layer archive, relative to the Terraform folder.
LAYER = "build/aws/layer.zip"
#: Lambda: code and layers together, unpacked (250 MB).
UNZIPPED_LIMIT = 250 * MB
#: Lambda: the largest zip uploaded with the API call itself (50 MB); larger ones go through S3.
DIRECT_UPLOAD_LIMIT = 50 * MB


def layer_cache() -> Path:
    """Where built layers are kept by the digest of their wheels (``GLACIER_CACHE_DIR`` or
    ``~/.cache/glacier``): the same wheels give the same zip, built once."""
    base = os.environ.get("GLACIER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "glacier"
    )
    return Path(base) / "layers"


def code_size(plan: Plan) -> int:
    """Bytes of the function's own code (``src/``: the modules and the handler)."""
    from glacier.terraform.handler import handler_source

    texts = [*plan.modules.values(), handler_source(list(plan.modules))]
    return sum(len(t.encode("utf-8")) for t in texts)


def build(plan: Plan, wheels: Wheels, target: Path, out: Path) -> list[Artifact]:
    """Write ``build/aws/layer.zip`` and ``build/aws/requirements.txt``; check the limits."""
    layer = out / LAYER
    key = wheels.key()
    if not (layer.is_file() and unpacked_cache(target, key)):
        cached = layer_cache() / f"{key}.zip"
        if not cached.is_file():
            with tempfile.TemporaryDirectory(prefix="glacier-layer-") as tmp:
                root = Path(tmp)
                unpack(wheels.third_party, root / "python")
                unpack([wheels.glacier], root / "python", skip=("glacier_jupyter",))
                zip_tree(root, cached)
        layer.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, layer)
        stamp(target, key)
    (target / "requirements.txt").write_text("\n".join(wheels.resolved()) + "\n", encoding="utf-8")
    with zipfile.ZipFile(layer) as zf:
        unpacked = sum(i.file_size for i in zf.infolist())
    zipped = layer.stat().st_size
    total = unpacked + code_size(plan)
    if total > UNZIPPED_LIMIT:
        raise PackageBuildError(
            f"the Lambda package is {total / MB:.1f} MB unpacked (layer {unpacked / MB:.1f} MB plus code), "
            f"over Lambda's {UNZIPPED_LIMIT / MB:.0f} MB limit: drop dependencies the pipeline does not "
            "import, or deploy the functions as a container image (up to 10 GB) built from "
            f"build/aws/requirements.txt and src/ (docs/terraform.md, 'Large packages')"
        )
    note = f"{total / MB:.1f} MB of Lambda's {UNZIPPED_LIMIT / MB:.0f} MB unpacked limit with the code"
    if zipped > DIRECT_UPLOAD_LIMIT:
        note += (
            f"; over {DIRECT_UPLOAD_LIMIT / MB:.0f} MB zipped, so the Terraform uploads it to the "
            "artifacts bucket and publishes the layer from there"
        )
    return [
        Artifact(LAYER, "Lambda layer (python/)", zipped, unpacked, note),
        Artifact("build/aws/requirements.txt", "resolved pins", 0, 0, f"{len(wheels.third_party)} wheels"),
    ]
