"""Writes tests/export/notebooks/sales.ipynb (run once; the notebook is checked in)."""

from __future__ import annotations

from pathlib import Path

from nbutil import code, markdown, write_notebook

HERE = Path(__file__).parent

CELLS = [
    markdown(
        "# Sales report\n\nA sample notebook for the exporter tests: magics, previews, widgets, two pipelines."
    ),
    code(
        "%load_ext autoreload\n%autoreload 2\n"
        "import polars as pl\n\nfrom glacier import Provider, pipeline\nfrom glacier.config import LocalConfig"
    ),
    code("!echo preparing\nfiles = !ls\nlen(files)"),
    markdown("## Resources"),
    code(
        "# where data lives and where code runs\n"
        'provider = Provider(config=LocalConfig(base_path="./data"))\n'
        "local_exec = provider.local()\n"
        'orders = provider.bucket(bucket="raw", path="orders.parquet")\n'
        'report = provider.bucket(bucket="curated", path="report.parquet")\n'
        "provider"
    ),
    code(
        "orders.write(\n"
        "    pl.DataFrame(\n"
        "        {\n"
        '            "id": [1, 2, 3, 4, 5, 6],\n'
        '            "region": ["eu", "us", "eu", "ap", "us", "eu"],\n'
        '            "amount": [10.0, -3.0, 7.5, 12.0, 0.0, 4.5],\n'
        "        }\n"
        "    )\n"
        ")\n"
        "orders.scan().head(3).collect()"
    ),
    markdown("## Clean\n\nDrop orders with a non-positive amount."),
    code(
        "@local_exec.task()\n"
        "def clean(source) -> pl.LazyFrame:\n"
        '    """Keep positive amounts."""\n'
        '    return source.scan().filter(pl.col("amount") > 0)'
    ),
    code("clean(orders).collect()"),
    code(
        "@local_exec.task()\n"
        "def aggregate(df: pl.LazyFrame, min_amount: float) -> pl.LazyFrame:\n"
        "    return (\n"
        '        df.filter(pl.col("amount") >= min_amount)\n'
        '        .group_by("region")\n'
        '        .agg(pl.col("amount").sum().alias("revenue"))\n'
        '        .sort("region")\n'
        "    )"
    ),
    markdown("## The pipeline\n\nOrders, cleaned, then revenue per region."),
    code(
        '@pipeline(name="revenue")\n'
        "def revenue_pipeline(min_amount: float = 0.0):\n"
        "    return aggregate(clean(orders), min_amount)"
    ),
    code("revenue_pipeline.graph"),
    code('%%time\nresult = revenue_pipeline.run(mode="local", min_amount=5.0, progress=False)'),
    code(
        'total = result.select(pl.col("revenue").sum())\nprint(revenue_pipeline.last_run.summary())\nresult'
    ),
    code("import ipywidgets as widgets\n\nslider = widgets.IntSlider(value=5)\nslider"),
    code('scratch = "only in the notebook"\nscratch', "glacier-skip"),
    code('get_ipython().run_line_magic("who", "")'),
    code(
        "@local_exec.task()\n"
        "def publish(df: pl.LazyFrame, target) -> pl.LazyFrame:\n"
        "    target.write(df)\n"
        "    return target.scan()\n"
        "\n\n"
        '@pipeline(name="report")\n'
        "def report_pipeline(min_amount: float = 0.0):\n"
        "    return publish(aggregate(clean(orders), min_amount), report)"
    ),
    code('EXPORTED_NOTE = "kept by its glacier-export tag"', "glacier-export"),
    code("report_pipeline.run(min_amount=1.0, progress=False)"),
]

if __name__ == "__main__":
    write_notebook(HERE / "notebooks" / "sales.ipynb", *CELLS)
