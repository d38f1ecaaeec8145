"""What to generate, cloud-neutral: buckets, executors with their access, orchestrators.

Built from the pipelines' graphs; the renderers turn a :class:`Plan` into HCL.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from glacier.config.execution import ExecutionConfig
from glacier.config.providers import ProviderConfig
from glacier.config.storage import StorageConfig
from glacier.errors import ConfigError, DefinitionError
from glacier.terraform.naming import ident, unique_idents
from glacier.terraform.retarget import CLOUDS, execution_for, storage_for

if TYPE_CHECKING:
    from glacier.pipelines import Pipeline
    from glacier.provider import Provider

__all__ = ["Plan", "BucketSpec", "ExecutorSpec", "Step", "Flow", "SecretVar", "build_plan", "pipelines_of"]

#: The bucket Glacier adds for code packages and task outputs passed between tasks.
ARTIFACTS = "glacier-artifacts"
GLOBS = "*?["
#: Provider-config secrets the generated provider blocks use (as sensitive variables).
#: Azure's storage keys are not needed: Terraform creates the account, tasks use managed identity.
WIRED: dict[str, dict[str, str]] = {
    "aws": {"access_key_id": "access_key", "secret_access_key": "secret_key", "session_token": "token"},
    "gcp": {"credentials_json": "credentials"},
    "azure": {},
}


@dataclass
class BucketSpec:
    name: str
    ident: str
    config: StorageConfig


@dataclass
class ExecutorSpec:
    name: str
    ident: str
    kind: str  # local, serverless, vm, cluster
    config: ExecutionConfig
    tasks: list[str] = field(default_factory=list)  # "pipeline.node" labels
    #: bucket name -> (read prefixes, write prefixes); a prefix "" is the whole bucket.
    access: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)

    def reads_only(self, bucket: str) -> bool:
        return not self.access[bucket][1]


@dataclass
class Step:
    node: str
    ident: str
    executor: str  # executor ident
    upstream: tuple[str, ...]  # step idents
    retries: int = 0


@dataclass
class Flow:
    pipeline: str
    ident: str
    description: str
    steps: list[Step]

    def levels(self) -> list[list[Step]]:
        """Steps grouped by depth: every step's upstream is in an earlier level."""
        depth: dict[str, int] = {}
        out: list[list[Step]] = []
        for step in self.steps:  # call order is topological
            d = 1 + max((depth[u] for u in step.upstream), default=-1)
            depth[step.ident] = d
            if d == len(out):
                out.append([])
            out[d].append(step)
        return out


@dataclass
class SecretVar:
    name: str
    description: str


@dataclass
class Plan:
    cloud: str
    provider_config: ProviderConfig | None
    buckets: list[BucketSpec]
    executors: list[ExecutorSpec]
    flows: list[Flow]
    secrets: list[SecretVar]
    modules: dict[str, str]  # importable module name -> source text
    name: str

    def executor(self, ident_: str) -> ExecutorSpec:
        return next(e for e in self.executors if e.ident == ident_)

    @property
    def has_local(self) -> bool:
        return any(e.kind == "local" for e in self.executors)


def pipelines_of(target: Any) -> list[Pipeline]:
    """The pipelines to export: one, a list, or every live pipeline using a provider."""
    from glacier.pipelines import Pipeline
    from glacier.provider import Provider

    if isinstance(target, Pipeline):
        return [target]
    if isinstance(target, Provider):
        return _pipelines_using(target)
    if isinstance(target, (list, tuple)) and target and all(isinstance(p, Pipeline) for p in target):
        names = [p.name for p in target]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise DefinitionError(f"two pipelines are named {dup[0]!r}: give each a distinct name")
        return list(target)
    raise DefinitionError(
        f"terraform export takes a Pipeline, a list of Pipelines or a Provider, not {type(target).__name__}"
    )


def _pipelines_using(provider: Provider) -> list[Pipeline]:
    from glacier.pipelines import defined_pipelines

    found: dict[str, Pipeline] = {}
    for obj in defined_pipelines():
        try:
            graph = obj.graph
        except Exception:  # a pipeline that cannot be traced is not this provider's
            continue
        uses = any(n.task.executor.provider is provider for n in graph.nodes.values()) or any(
            b.provider is provider for b in graph.buckets
        )
        if uses:
            if obj.name in found and found[obj.name] is not obj:
                raise DefinitionError(
                    f"two live pipelines named {obj.name!r} use this provider: pass the one to export"
                )
            found[obj.name] = obj
    if not found:
        raise DefinitionError(
            "no pipeline uses this provider: define a @pipeline whose tasks run on its executors, "
            "or pass the pipeline itself"
        )
    return [found[k] for k in sorted(found)]


def _cloud_of(
    pipelines: list[Pipeline], graphs: list[Any], cloud: str | None
) -> tuple[str, ProviderConfig | None]:
    configs: dict[str, ProviderConfig] = {}
    for graph in graphs:
        for node in graph.nodes.values():
            prov = node.task.executor.provider
            configs.setdefault(prov.cloud, prov.config)
        for bucket in graph.buckets:
            configs.setdefault(bucket.provider.cloud, bucket.provider.config)
    clouds = sorted(c for c in configs if c != "local")
    names = ", ".join(repr(p.name) for p in pipelines)
    if cloud is None:
        if not clouds:
            raise ConfigError(
                f"pipeline {names} runs on LocalConfig, which has no cloud to generate Terraform for: "
                "pass cloud='aws', 'gcp' or 'azure' (glacier terraform ... --cloud aws)"
            )
        if len(clouds) > 1:
            raise ConfigError(
                f"pipeline {names} uses several clouds ({', '.join(clouds)}): pass cloud= to pick the one to generate"
            )
        cloud = clouds[0]
    elif cloud not in CLOUDS:
        raise ConfigError(
            f"cloud={cloud!r} is not one Glacier generates Terraform for: use 'aws', 'gcp' or 'azure'"
        )
    return cloud, configs.get(cloud)


def _prefix(path: str) -> str:
    """The object key a bucket path names, or ``PREFIX*`` for the keys below a folder or
    glob (``"*"`` alone: the whole bucket)."""
    cut = min((path.index(ch) for ch in GLOBS if ch in path), default=None)
    if cut is not None:
        return path[:cut] + "*"
    if not path:
        return "*"
    if "." not in path.rsplit("/", 1)[-1]:  # a folder: every object below it
        return path + "/*"
    return path


def _module_sources(pipelines: list[Pipeline]) -> dict[str, str]:
    """The source files that define the pipelines (none for a notebook's cells)."""
    import inspect

    out: dict[str, str] = {}
    for p in pipelines:
        mod_name = p.fn.__module__
        file = getattr(sys.modules.get(mod_name), "__file__", None)
        try:
            defined_in = inspect.getsourcefile(p.fn)
        except TypeError:
            defined_in = None
        if not file or not defined_in or Path(file).suffix != ".py":
            continue
        if Path(file).resolve() != Path(defined_in).resolve() or not Path(file).is_file():
            continue  # e.g. a notebook kernel's __main__ (ipykernel_launcher.py)
        name = Path(file).stem if mod_name == "__main__" else mod_name.rsplit(".", 1)[-1]
        out[name] = Path(file).read_text(encoding="utf-8")
    return dict(sorted(out.items()))


def build_plan(target: Any, *, cloud: str | None = None) -> Plan:
    """Collect everything the renderers need from ``target``'s pipelines."""
    pipelines = pipelines_of(target)
    graphs = [p.graph for p in pipelines]
    cloud, provider_config = _cloud_of(pipelines, graphs, cloud)

    # executors and buckets, in first-use order
    executors: dict[str, Any] = {}
    buckets: dict[str, list[Any]] = {}
    for graph in graphs:
        for node in graph.nodes.values():
            ex = node.task.executor
            prev = executors.setdefault(ex.name, ex)
            if prev is not ex and (prev.kind, prev.config) != (ex.kind, ex.config):
                raise DefinitionError(
                    f"two different executors are named {ex.name!r}: give each a distinct name=..."
                )
            for b in (*node.reads, *node.writes):
                buckets.setdefault(b.bucket, []).append(b)

    bucket_ids = unique_idents("bucket", buckets, reserved=[ARTIFACTS])
    exec_ids = unique_idents("executor", executors)
    bucket_specs: list[BucketSpec] = []
    for name, objs in buckets.items():
        configs = {id(b.config): b.config for b in objs if b.config is not None}
        distinct = {c for c in configs.values()}
        if len(distinct) > 1:
            raise ConfigError(
                f"bucket {name!r} is given different configs ({', '.join(sorted(repr(c) for c in distinct))}): "
                "one bucket has one config"
            )
        config = next(iter(distinct), None)
        bucket_specs.append(
            BucketSpec(name, bucket_ids[name], storage_for(config, cloud, f"bucket {name!r}"))
        )

    specs: dict[str, ExecutorSpec] = {}
    for name, ex in executors.items():
        where = f"executor {name!r} ({type(ex.config).__name__ if ex.config else ex.kind})"
        config = execution_for(ex.kind, ex.config, cloud, where, ex.provider.cloud)
        specs[name] = ExecutorSpec(name, exec_ids[name], ex.kind, config)

    flows: list[Flow] = []
    flow_ids = unique_idents("pipeline", [p.name for p in pipelines])
    for pipeline, graph in zip(pipelines, graphs, strict=True):
        step_ids = unique_idents(f"task (in pipeline {pipeline.name!r})", graph.nodes)
        steps = []
        for nid, node in graph.nodes.items():
            spec = specs[node.task.executor.name]
            spec.tasks.append(f"{pipeline.name}.{nid}")
            for b, mode in [*((b, 0) for b in node.reads), *((b, 1) for b in node.writes)]:
                sets = spec.access.setdefault(b.bucket, (set(), set()))
                sets[mode].add(_prefix(b.path))
            steps.append(
                Step(
                    nid,
                    step_ids[nid],
                    spec.ident,
                    tuple(step_ids[u] for u in node.upstream),
                    node.task.retries,
                )
            )
        flows.append(Flow(pipeline.name, flow_ids[pipeline.name], pipeline.description, steps))

    if not bucket_specs and all(s.kind == "local" for s in specs.values()):
        names = ", ".join(repr(p.name) for p in pipelines)
        raise ConfigError(
            f"pipeline {names} uses no cloud resource: no bucket and no serverless, vm or cluster "
            "executor (every task runs on provider.local()), so there is no infrastructure to generate; "
            "add provider.bucket(...) or a cloud executor, or just run it with pipeline.run()"
        )
    secrets = _secrets(provider_config, [s.config for s in specs.values()], cloud)
    name = pipelines[0].name if len(pipelines) == 1 else "glacier"
    return Plan(
        cloud,
        provider_config,
        bucket_specs,
        list(specs.values()),
        flows,
        secrets,
        _module_sources(pipelines),
        ident(name),
    )


def _secrets(
    provider_config: ProviderConfig | None, configs: list[ExecutionConfig], cloud: str
) -> list[SecretVar]:
    """Every secret the generated code needs becomes a sensitive variable (never a value)."""
    out: dict[str, SecretVar] = {}
    if provider_config is not None:
        for fname in WIRED.get(cloud, {}):
            if isinstance(getattr(provider_config, fname, None), SecretStr):
                out[f"{cloud}_{fname}"] = SecretVar(
                    f"{cloud}_{fname}", f"{type(provider_config).__name__}.{fname}"
                )
    from glacier.config.execution import DatabricksConfig

    if any(isinstance(c, DatabricksConfig) for c in configs):
        out["databricks_token"] = SecretVar(
            "databricks_token", "DatabricksConfig.token: a Databricks access token"
        )
    return [out[k] for k in sorted(out)]
