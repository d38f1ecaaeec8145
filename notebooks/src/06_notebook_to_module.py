# %% [markdown]
# # 06 · From notebook to module: `glacier export`, `glacier run` and the drift check
#
# **What it shows.** The pipeline built in this notebook becomes a plain Python module that
# CI, a scheduler or the Terraform export can run: `%glacier export module` writes it (only the
# statements that define the pipeline; previews, displays, magics and runs are left out, and
# the last run becomes its `__main__` block), `glacier run` runs it from a shell, and
# `glacier export --check` fails when the notebook was edited but not re-exported.
#
# **How to run it.** `.venv/bin/jupyter lab notebooks/06_notebook_to_module.ipynb` (after
# `make test` once, which installs the `glacier` kernel), then *Run All*. **Save the notebook
# first**: the export reads the saved file. It writes `revenue.py` next to the notebook and
# data under `./data`.

# %%
#| glacier-skip
# Shell commands below (`!glacier ...`) use this kernel's environment, as an activated venv would.
import os
import sys
from pathlib import Path

os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

# %% [markdown]
# ## A pipeline, built the notebook way

# %%
import polars as pl

from glacier import Provider, pipeline
from glacier.config import LocalConfig

%load_ext glacier

provider = Provider(config=LocalConfig(base_path="./data"))
local_exec = provider.local()
orders = provider.bucket(bucket="shop", path="orders.csv")
report = provider.bucket(bucket="shop", path="reports/revenue.parquet")

orders.write(
    pl.DataFrame(
        {
            "region": ["north", "south", "north", "east", "south", "north"],
            "amount": [120.0, 80.5, -5.0, 42.0, 19.5, 60.0],
        }
    )
)

# %% [markdown]
# Revenue per region, from the orders above a minimum amount.

# %%
@local_exec.task()
def valid(source, min_amount: float) -> pl.LazyFrame:
    return source.scan().filter(pl.col("amount") > min_amount)


@local_exec.task()
def per_region(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("region").agg(revenue=pl.col("amount").sum()).sort("region")


@local_exec.task()
def publish(df: pl.LazyFrame) -> int:
    report.write(df)
    return report.read().height


@pipeline(name="revenue")
def revenue(min_amount: float = 0.0):
    table = per_region(valid(orders, min_amount))
    publish(table)
    return table

# %% [markdown]
# Looking at things along the way (none of this reaches the module):

# %%
%glacier preview revenue.valid -n 3

# %%
revenue.run(mode="local").collect()

# %% [markdown]
# ## Export this notebook as a module
#
# `--notebook` names the file explicitly; in JupyterLab and VS Code `%glacier export module
# revenue.py` finds the notebook by itself.

# %%
%glacier export module revenue.py --notebook 06_notebook_to_module.ipynb

# %%
print(Path("revenue.py").read_text())

# %% [markdown]
# ## Run it outside the notebook
#
# Importing the module runs nothing; `python revenue.py` runs the notebook's last run, and
# `glacier run MODULE:PIPELINE` runs any of its pipelines, with parameters, and prints a
# per-task summary:

# %%
!glacier run revenue.py:revenue --param min_amount=10

# %%
!python revenue.py

# %% [markdown]
# The module's run published the report:

# %%
%glacier preview report

# %% [markdown]
# The same module feeds the other commands: `glacier dag revenue.py:revenue` draws the DAG,
# `glacier terraform revenue.py:revenue --cloud aws --out infra/` writes its infrastructure.

# %%
!glacier dag revenue.py:revenue

# %% [markdown]
# ## The drift check
#
# In CI or a pre-commit hook, `glacier export NOTEBOOK -o MODULE --check` exits 0 while the
# module matches the notebook:

# %%
!glacier export 06_notebook_to_module.ipynb -o revenue.py --check; echo "exit code $?"

# %% [markdown]
# Someone edits a task in the notebook (here: a copy of it in a scratch folder, changed with
# `nbformat`) and forgets to export. The check fails with exit code 1 and prints the diff.
# (`#| glacier-skip` on the first line of a cell keeps scratch work like this out of the module.)

# %%
#| glacier-skip
import shutil
import tempfile

import nbformat

scratch = Path(tempfile.mkdtemp())  # a scratch folder: nothing is written next to the notebook
nb = nbformat.read("06_notebook_to_module.ipynb", as_version=4)
for cell in nb.cells:
    cell.source = cell.source.replace('agg(revenue=pl.col("amount").sum())', 'agg(revenue=pl.col("amount").sum(), orders=pl.len())')
shutil.copy("revenue.py", scratch / "revenue.py")
nbformat.write(nb, scratch / "06_edited.ipynb")

# %%
!cd {scratch} && glacier export 06_edited.ipynb -o revenue.py --check; echo "exit code $?"

# %% [markdown]
# More: [docs/export.md](../docs/export.md) (what is kept and dropped, cell tags, CI and
# pre-commit recipes).
