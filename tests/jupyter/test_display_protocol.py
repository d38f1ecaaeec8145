"""The display protocol: every public Glacier object builds its own bundle through the
``Displayable`` mixin, without IPython (or any widget library) imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from urllib.parse import unquote

from glacier.display import Displayable, mimebundle

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import polars as pl
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig
    from glacier.preview import preview

    provider = Provider(config=LocalConfig(base_path=sys.argv[1]))
    ex = provider.local()
    source = provider.bucket(bucket="data", path="in.parquet")
    source.write(pl.DataFrame({"x": [1, 2, 3]}))

    @ex.task()
    def load(src) -> pl.LazyFrame:
        return src.scan()

    @pipeline(name="etl")
    def etl():
        return load(source)

    etl.run(progress=False)
    objects = {
        "Provider": provider, "Executor": ex, "Bucket": source, "Task": load, "Pipeline": etl,
        "RunRecord": etl.last_run, "Preview": preview(etl.node("load"), n=2),
    }
    out = {name: obj._repr_mimebundle_() for name, obj in objects.items()}
    out["filtered"] = etl._repr_mimebundle_(include=["text/plain"])
    loaded = sorted(m for m in ("IPython", "ipywidgets", "anywidget", "glacier_jupyter") if m in sys.modules)
    print(json.dumps({"bundles": out, "loaded": loaded}))
    """
)


def test_every_public_object_displays_without_ipython(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    bundles = result["bundles"]
    assert bundles.pop("filtered").keys() == {"text/plain"}
    assert sorted(bundles) == ["Bucket", "Executor", "Pipeline", "Preview", "Provider", "RunRecord", "Task"]
    for name, bundle in bundles.items():
        assert bundle.keys() >= {"text/plain", "text/html"}, name
        assert "display failed" not in bundle["text/plain"], (name, bundle["text/plain"])
    # pictures are <img>s of SVG data (sanitisers keep them): unquote() shows the SVG
    assert "<svg" in unquote(bundles["Pipeline"]["text/html"]) and "<svg" in unquote(
        bundles["RunRecord"]["text/html"]
    )
    assert bundles["Preview"]["text/plain"].startswith("Preview of etl.load")


def test_one_repr_mimebundle_for_every_displayable_class(shell, run):
    """No class writes its own ``_repr_mimebundle_``: the mixin's is the only one."""
    ns = shell.user_ns
    record = run("simple_pipeline.run(progress=False); simple_pipeline.last_run")
    shown = run("from glacier.preview import preview; preview(simple_pipeline.node('load'), n=2)")
    objects = [
        ns["provider"],
        ns["local_exec"],
        ns["data_source"],
        ns["load"],
        ns["simple_pipeline"],
        record,
        shown,
    ]
    for cls in {type(obj) for obj in objects}:
        assert issubclass(cls, Displayable), cls
        assert cls._repr_mimebundle_ is Displayable._repr_mimebundle_, cls
        assert cls._bundle_ is not Displayable._bundle_, cls
    assert len({type(obj) for obj in objects}) == 7


def test_a_failing_bundle_never_breaks_a_cell():
    class Broken(Displayable):
        def _bundle_(self):
            raise RuntimeError("no picture")

        def __repr__(self):
            return "<Broken>"

    assert mimebundle(Broken()) == {"text/plain": "<Broken>\n  (display failed: RuntimeError: no picture)"}
    assert mimebundle(42) == {"text/plain": "42"}
