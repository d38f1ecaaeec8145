"""Databricks pieces every cloud shares: workspace files and the job that runs one task."""

from __future__ import annotations

from glacier.config.execution import DatabricksConfig
from glacier.terraform.hcl import Attr, Block, template
from glacier.terraform.plan import ExecutorSpec

__all__ = ["databricks_files", "databricks_job"]


def databricks_files(ex: ExecutorSpec, modules: list[str]) -> list[Block]:
    """Workspace files: the entry point first (the job runs it), then the pipeline modules."""
    return [
        Block("resource", ("databricks_workspace_file", f"{ex.ident}_{i}")).add(
            Attr("source", template(f"${{path.module}}/src/{f}")),
            Attr("path", template(f"/Shared/glacier/${{var.name_prefix}}/{f}")),
        )
        for i, f in enumerate(["glacier_handler.py", *(f"{m}.py" for m in modules)])
    ]


def databricks_job(ex: ExecutorSpec) -> Block:
    cfg = ex.config
    assert isinstance(cfg, DatabricksConfig)
    job = Block("resource", ("databricks_job", ex.ident)).add(
        Attr("name", template(f"${{var.name_prefix}}-{ex.ident.replace('_', '-')}")),
        Attr("max_concurrent_runs", 10),
    )
    for p in ("pipeline", "task", "run", "staging"):
        job.block("parameter").add(Attr("name", p), Attr("default", ""))
    task = job.block("task").attr("task_key", "run_task")
    if cfg.cluster_id:
        task.attr("existing_cluster_id", cfg.cluster_id)
    else:
        task.attr("job_cluster_key", "glacier")
    task.block("spark_python_task").add(
        Attr("python_file", template(f"${{databricks_workspace_file.{ex.ident}_0.path}}")),
        Attr(
            "parameters",
            [
                "{{job.parameters.pipeline}}",
                "{{job.parameters.task}}",
                "{{job.parameters.run}}",
                "{{job.parameters.staging}}",
            ],
        ),
    )
    return job
