"""What the cache key sees (issue 19, "tests the suite lacks").

A cached task must recompute when anything its result depends on changes: a module-level
constant it reads (simple values, containers of them, a lookup DataFrame), the rows of an
in-memory DataFrame argument, and the code of the module-level helper functions it calls,
however deep. Each test re-defines part of a module the way re-running a notebook cell does
(a new version of the module file, the task's own source unchanged) and checks both the
recomputation and the result.
"""

from __future__ import annotations

import importlib.util
import textwrap

import polars as pl
import pytest

MODULE = """
import polars as pl
from glacier import Provider, pipeline
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={base!r}))
local_exec = provider.local()
CALLS = []

THRESHOLD = {threshold!r}
REGIONS = {regions!r}
LOOKUP = pl.DataFrame({{"region": ["a", "b"], "factor": {factors!r}}})


def scale(x):
    return x * {scale}


def adjust(x):
    return scale(x) + {offset}


@local_exec.task(cache=True)
def keep(df: pl.DataFrame) -> pl.DataFrame:
    CALLS.append("keep")
    return df.filter(pl.col("amount") > THRESHOLD, pl.col("region").is_in(list(REGIONS)))


@local_exec.task(cache=True)
def weigh(df: pl.DataFrame) -> pl.DataFrame:
    CALLS.append("weigh")
    return df.join(LOOKUP, on="region").with_columns(
        pl.col("amount").map_elements(adjust, return_dtype=pl.Int64).alias("adjusted")
    )


@pipeline(name="keyed")
def keyed(orders: pl.DataFrame):
    return weigh(keep(orders))
"""

DEFAULTS = {"threshold": 0, "regions": ("a", "b"), "factors": [1, 2], "scale": 2, "offset": 0}
ORDERS = pl.DataFrame({"region": ["a", "b", "c"], "amount": [5, 20, 7]})


@pytest.fixture
def load(tmp_path, cache_dir):
    counter = iter(range(1000))

    def load(**changes):
        values = {**DEFAULTS, **changes, "base": str(tmp_path / "data")}
        path = tmp_path / f"keyed_v{next(counter)}.py"
        path.write_text(textwrap.dedent(MODULE).format(**values))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def run(module, orders=ORDERS):
    out = module.keyed.run(mode="local", orders=orders).sort("region")
    return out, list(module.CALLS), module.keyed.last_run.cache_hits


def test_unchanged_module_is_all_hits(load):
    first, calls, _ = run(load())
    assert calls == ["keep", "weigh"]
    again, calls, hits = run(load())
    assert calls == [] and hits == ["keep", "weigh"]
    assert again.equals(first)


@pytest.mark.parametrize(
    ("change", "recomputed", "expected"),
    [
        ({"threshold": 6}, ["keep", "weigh"], [("b", 20, 2, 40)]),
        ({"regions": ("b",)}, ["keep", "weigh"], [("b", 20, 2, 40)]),
        ({"factors": [1, 3]}, ["weigh"], [("a", 5, 1, 10), ("b", 20, 3, 40)]),
    ],
    ids=["simple-constant", "tuple-constant", "lookup-dataframe"],
)
def test_a_changed_module_constant_recomputes(load, change, recomputed, expected):
    run(load())
    out, calls, _ = run(load(**change))
    assert calls == recomputed
    assert out.rows() == expected


@pytest.mark.parametrize(
    ("change", "adjusted"),
    [({"offset": 1}, [11, 41]), ({"scale": 3}, [15, 60])],
    ids=["called-helper", "helper-of-a-helper"],
)
def test_a_changed_helper_function_recomputes(load, change, adjusted):
    run(load())
    out, calls, hits = run(load(**change))
    assert calls == ["weigh"] and hits == ["keep"]
    assert out["adjusted"].to_list() == adjusted


def test_other_rows_of_an_in_memory_frame_recompute(load):
    module = load()
    run(module)
    other = pl.DataFrame({"region": ["a", "b", "c"], "amount": [50, 2, 7]})  # same schema
    module.CALLS.clear()
    out, calls, _ = run(module, other)
    assert calls == ["keep", "weigh"]
    assert out.rows() == [("a", 50, 1, 100), ("b", 2, 2, 4)]
    module.CALLS.clear()
    _, calls, hits = run(module, ORDERS)  # the first frame again: its entry is still there
    assert calls == [] and hits == ["keep", "weigh"]
