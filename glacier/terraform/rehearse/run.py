"""The rehearsal driver: export, build, apply the data plane, execute, compare."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from glacier.terraform.rehearse.asl import ExecutionFailed
from glacier.terraform.rehearse.model import RehearsalError
from glacier.terraform.rehearse.report import Rehearsal, TaskResult, frames_equal

__all__ = ["rehearse", "rehearse_folder"]


def _renderer_definition(plan: Any, flow: Any) -> Any:
    from glacier.clouds.registry import cloud_named

    return cloud_named(plan.cloud).load_renderer()(plan).definition(flow)


def rehearse(
    target: Any,
    *,
    cloud: str | None = None,
    out: str | Path | None = None,
    wheelhouse: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Rehearsal:
    """Export ``target`` to Terraform, build its packages and run the deployment locally.

    Parameters
    ----------
    target : Pipeline
        The pipeline to rehearse (its module must be a file: the packages ship it).
    cloud : {"aws", "gcp", "azure"}, optional
        Re-target to this cloud; default: the pipeline's own.
    out : path, optional
        The Terraform folder to write and rehearse (a temporary one by default).
    wheelhouse : path, optional
        A local folder of wheels for the package build.
    log : callable, optional
        Called with a line of progress at each phase.

    Returns
    -------
    Rehearsal
        ``passed``, the per-task table (``table()``) and the failure reason.
    """
    from glacier.terraform import export
    from glacier.terraform.packaging import build_packages
    from glacier.terraform.plan import build_plan, pipelines_of

    say = log or (lambda _line: None)
    plan = build_plan(target, cloud=cloud)
    _check(plan)
    with tempfile.TemporaryDirectory(prefix="glacier-rehearse-") as tmp:
        folder = Path(out) if out is not None else Path(tmp) / "terraform"
        export(target, folder, cloud=cloud)
        say(f"exported the Terraform to {folder}")
        report = build_packages(plan, folder, wheelhouse=wheelhouse)
        say(report.summary())
        return _rehearse_aws(plan, pipelines_of(target), folder, Path(tmp), say)


def rehearse_folder(
    target: Any, out: str | Path, *, cloud: str | None = None, log: Callable[[str], None] | None = None
) -> Rehearsal:
    """Rehearse the Terraform folder ``out`` as it is (exported and built before, perhaps edited)."""
    from glacier.terraform.plan import build_plan, pipelines_of

    plan = build_plan(target, cloud=cloud)
    _check(plan)
    with tempfile.TemporaryDirectory(prefix="glacier-rehearse-") as tmp:
        return _rehearse_aws(plan, pipelines_of(target), Path(out), Path(tmp), log or (lambda _line: None))


def _check(plan: Any) -> None:
    if plan.cloud != "aws":
        raise RehearsalError(
            f"rehearsing a {plan.cloud} deployment is not built yet: only --cloud aws runs "
            "(GCP and Azure packages are built and can be inspected under OUT/build/)"
        )
    if not plan.modules:
        raise RehearsalError(
            "the pipeline has no module file (defined in a notebook?): export it as a module "
            "(%glacier export module PATH), import the pipeline from it and rehearse that"
        )


def _rehearse_aws(
    plan: Any, pipelines: list[Any], folder: Path, work: Path, say: Callable[[str], None]
) -> Rehearsal:
    from glacier.terraform.rehearse.aws import AwsRehearsal, endpoint_env

    started = time.perf_counter()
    aws = AwsRehearsal(folder, endpoint_env(), work)
    aws.apply()
    applied = time.perf_counter()
    say(f"applied the data plane: {len(aws.identities)} task identities with their generated policies")
    result = Rehearsal(pipeline=", ".join(f.pipeline for f in plan.flows), cloud="aws")
    runs: dict[str, str] = {}
    for flow in plan.flows:
        definition, result.evaluated_by = aws.definition(flow.ident, _renderer_definition(plan, flow))
        run_id = f"rehearsal-{uuid.uuid4().hex[:12]}"
        runs[flow.pipeline] = run_id
        say(f"executing state machine {flow.ident} as {run_id}")
        try:
            execution = aws.execute(definition, run_id)
            result.waited += execution.waited
        except ExecutionFailed as exc:
            failed = next((r for r in aws.results.values() if r.status == "failed"), None)
            where = f"task {failed.task} ({failed.where})" if failed else f"state {exc.state}"
            result.failure = f"{where} failed: {failed.error if failed else exc}"
        for step in flow.steps:
            result.tasks.append(aws.results.get(step.ident) or TaskResult(task=step.node, where="-"))
        if result.failure:
            break
    result.apply_seconds = applied - started
    result.seconds = time.perf_counter() - applied
    if result.failure is None:
        if any(_cloud_of(p) != plan.cloud for p in pipelines):  # re-targeted: compare as deployed
            with _deployed_env(plan.cloud):
                _compare(result, _as_deployed(pipelines, plan.modules), aws, runs)
        else:
            _compare(result, pipelines, aws, runs)
    return result


def _cloud_of(pipe: Any) -> str:
    clouds = {n.task.executor.provider.cloud for n in pipe.graph.nodes.values()}
    clouds |= {b.provider.cloud for b in pipe.graph.buckets}
    clouds.discard("local") if len(clouds) > 1 else None
    return clouds.pop() if len(clouds) == 1 else "mixed"


@contextlib.contextmanager
def _deployed_env(cloud: str) -> Iterator[None]:
    from glacier.provider import DEPLOYED_CLOUD

    before = os.environ.get(DEPLOYED_CLOUD)
    os.environ[DEPLOYED_CLOUD] = cloud
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DEPLOYED_CLOUD, None)
        else:
            os.environ[DEPLOYED_CLOUD] = before


def _as_deployed(pipelines: list[Any], modules: dict[str, str]) -> list[Any]:
    """The pipelines as a deployed task builds them: their modules executed afresh (under
    private names) while ``GLACIER_CLOUD`` names the target cloud, so every provider, bucket
    and executor is the target cloud's, as in the cloud."""
    from glacier import Pipeline

    found: dict[str, Any] = {}
    for name, source in modules.items():
        module = types.ModuleType(f"_glacier_rehearsal_{name}")
        module.__file__ = f"<rehearsal of {name}>"
        exec(compile(source, f"<{name}.py as deployed>", "exec"), module.__dict__)
        found.update({v.name: v for v in vars(module).values() if isinstance(v, Pipeline)})
    return [found[p.name] for p in pipelines]


def _staged(aws: Any, run_id: str, node: str) -> Any:
    import polars as pl

    bucket = aws.model.resolve("aws_s3_bucket.glacier_artifacts.bucket")
    return pl.read_parquet(f"s3://{bucket}/runs/{run_id}/{node}.parquet")


def _compare(result: Rehearsal, pipelines: list[Any], aws: Any, runs: dict[str, str]) -> None:
    """Every output of the rehearsal against ``run(mode="local")`` on the same storage."""
    from glacier.graph import substitute

    for pipe in pipelines:
        graph = pipe.graph
        run_id = runs[pipe.name]
        returned_nodes = [n for n in graph.nodes if _mentions(graph.result, n)]
        staged = {n: _staged(aws, run_id, n) for n in returned_nodes}
        deployed_return = substitute(graph.result, staged)
        written = {b.get_uri(): b for node in graph.nodes.values() for b in node.writes}
        deployed_writes = {uri: _read(b) for uri, b in written.items()}
        started = time.perf_counter()
        local_return = pipe.run(mode="local", progress=False)
        result.local_seconds += time.perf_counter() - started
        record = pipe.last_run
        for task in result.tasks:
            run = record.tasks.get(task.task)
            task.local_rows = run.rows if run is not None else None
            if task.rows is not None and task.local_rows is not None and task.rows != task.local_rows:
                result.failure = result.failure or (
                    f"task {task.task} gave {task.rows} rows, run(mode='local') {task.local_rows}"
                )
        checks = [("returned by " + pipe.name, deployed_return, local_return)]
        checks += [(uri, deployed_writes[uri], _read(b)) for uri, b in written.items()]
        for what, deployed, local in checks:
            equal, detail = _equal(deployed, local)
            result.outputs.append((what, equal, detail))
            if not equal:
                result.failure = result.failure or f"output {what} differs from run(mode='local'): {detail}"


def _mentions(value: Any, node: str) -> bool:
    from glacier.graph import Output, walk

    return any(isinstance(leaf, Output) and leaf.node.id == node for leaf in walk(value))


def _read(bucket: Any) -> Any:
    try:
        return bucket.read()
    except Exception as exc:  # a folder or glob written as a dataset: compared as absent
        return f"<unreadable: {type(exc).__name__}>"


def _equal(deployed: Any, local: Any) -> tuple[bool, str]:
    if isinstance(deployed, (list, tuple)) and isinstance(local, (list, tuple)):
        if len(deployed) != len(local):
            return False, f"{len(deployed)} values != {len(local)}"
        for a, b in zip(deployed, local, strict=True):
            equal, detail = _equal(a, b)
            if not equal:
                return equal, detail
        return True, ""
    if isinstance(deployed, dict) and isinstance(local, dict):
        return _equal(list(deployed.values()), list(local.values()))
    return frames_equal(deployed, local)
