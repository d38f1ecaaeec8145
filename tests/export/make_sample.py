"""Writes tests/export/notebooks/sales.ipynb (run once with ``python -m tests.export.make_sample`` from the
repository root; the notebook is checked in)."""

from __future__ import annotations

from pathlib import Path

from tests.export.export_nbutil import code, markdown, write_notebook

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

KITCHEN = [
    markdown(
        "# Everything a notebook holds\n\nNot executed by the tests: exported and compared with a snapshot."
    ),
    code(
        "%load_ext glacier\n%matplotlib inline\n"
        "from __future__ import annotations\n\nimport os\n\nimport polars as pl\n\n"
        "from glacier import Provider, pipeline\n"
        "from glacier.config import AwsConfig, LambdaConfig"
    ),
    code("!pip install polars\nfiles = !ls\nfiles"),
    code(
        'provider = Provider(config=AwsConfig(region=os.environ.get("AWS_REGION", "us-east-1")))\n'
        "local_exec = provider.local()\n"
        "fn = provider.serverless(config=LambdaConfig(memory=1024))\n"
        'raw = provider.bucket(bucket="lake", path="raw/events.parquet")\n'
        'curated = provider.bucket(bucket="lake", path="curated/daily.parquet")  # the output\n'
        "provider\nraw"
    ),
    code("%%bash\naws s3 ls"),
    code("import polars as pl  # imported again: exported once"),
    markdown(
        "## Extract\n\nRead the raw events; a **long** paragraph that goes on and on to show how a markdown cell is wrapped when it turns into a comment above the task it describes."
    ),
    code("@local_exec.task(retries=2)\ndef extract(source) -> pl.LazyFrame:\n    return source.scan()"),
    code("extract(raw).head().collect()\n%glacier preview extract -n 5"),
    code(
        '@fn.task()\ndef daily(df: pl.LazyFrame, day: str) -> pl.LazyFrame:\n    return df.filter(pl.col("day") == day)'
    ),
    code("def helper(x):  # a plain function stays\n    return x + 1\n\n\nTHRESHOLD = helper(1); LIMIT = 10"),
    markdown("The daily pipeline."),
    code(
        '@pipeline(name="daily")\ndef daily_pipeline(day: str = "2024-01-01"):\n'
        '    """One day of events."""\n    return daily(extract(raw), day)'
    ),
    code("daily_pipeline.graph\n%glacier dag daily_pipeline"),
    code("from glacier_jupyter import DagWidget\nw = DagWidget(daily_pipeline)\nw"),
    code('out = daily_pipeline.run(mode="local", day="2024-02-01", progress=False)\nout.head()'),
    code("notes = 'scratch work'", "glacier-skip"),
    code('backfill = pipeline(name="backfill")(daily_pipeline.fn)'),
    code("%glacier run backfill --mode local"),
    code('daily_pipeline.run(mode="local", day="2024-03-01")'),
]

if __name__ == "__main__":
    write_notebook(HERE / "notebooks" / "kitchen.ipynb", *KITCHEN)
