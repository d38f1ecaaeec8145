"""Fixtures for the Jupyter tests: a real IPython shell with ``%load_ext glacier``,
and the design document's Example 1 defined in its namespace."""

from __future__ import annotations

import textwrap

import pytest

EXAMPLE_1 = textwrap.dedent(
    """
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig
    import polars as pl

    provider = Provider(config=LocalConfig(base_path={base!r}))
    local_exec = provider.local()
    data_source = provider.bucket(bucket="data", path="input.parquet")
    data_source.write(pl.DataFrame({{"id": list(range(1000)), "value": [i % 7 - 3 for i in range(1000)]}}))

    @local_exec.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @local_exec.task()
    def transform(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value") > 0)

    @pipeline(name="simple")
    def simple_pipeline():
        data = load(data_source)
        result = transform(data)
        return result
    """
)


@pytest.fixture(scope="session")
def ip():
    """The process's IPython shell, with the extension loaded."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "glacier")
    return shell


@pytest.fixture
def shell(ip, tmp_path, monkeypatch):
    """The shell with a clean namespace holding Example 1 (data under ``tmp_path``)."""
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path / "cache"))
    saved = dict(ip.user_ns)
    result = ip.run_cell(EXAMPLE_1.format(base=str(tmp_path / "data")))
    result.raise_error()
    yield ip
    for name in list(ip.user_ns):
        if name not in saved:
            del ip.user_ns[name]
    ip.user_ns.update(saved)


@pytest.fixture
def run(shell):
    """``run(code)``: run a cell in the shell, raise its error, return its value."""

    def _run(code: str):
        result = shell.run_cell(code)
        result.raise_error()
        return result.result

    return _run
