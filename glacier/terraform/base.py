"""What every cloud renderer shares: the file set, the compute dispatch, Databricks jobs,
prefixed names, common variables and outputs, the README header.

A cloud's renderer (``glacier/clouds/<cloud>/terraform.py``) subclasses :class:`Renderer`
with its storage config and its three execution config types,
``Renderer[S3Config, LambdaConfig, EC2Config, EMRConfig]``, and implements the hooks;
:meth:`Renderer.compute` and :meth:`Renderer.storage` hand them their configs typed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

from glacier.config.execution import DatabricksConfig, ExecutionConfig
from glacier.config.storage import StorageConfig
from glacier.errors import ConfigError
from glacier.terraform.handler import handler_source
from glacier.terraform.hcl import Attr, Block, Comment, Raw, render_file, template
from glacier.terraform.naming import slug
from glacier.terraform.plan import WIRED, BucketSpec, ExecutorSpec, Flow, Plan

__all__ = ["Renderer", "variable", "output", "ref", "prefixed", "requirements", "glacier_wheel_name"]

S = TypeVar("S", bound=StorageConfig)
F = TypeVar("F", bound=ExecutionConfig)
V = TypeVar("V", bound=ExecutionConfig)
K = TypeVar("K", bound=ExecutionConfig)
#: The parameters every deployed task is called with (see ``glacier_handler.py``).
TASK_PARAMETERS = ("pipeline", "task", "run", "staging")


def ref(text: str) -> Raw:
    return Raw(text)


def prefixed(*parts: str) -> str:
    """``"${var.name_prefix}-etl-lambda-dlq"`` from ``("etl_lambda", "dlq")``: a resource name."""
    return "-".join(["${var.name_prefix}", *(slug(p) for p in parts)])


def variable(
    name: str, type_: str, description: str, default: Any = ..., *, sensitive: bool = False
) -> Block:
    block = Block("variable", (name,))
    block.attr("description", description)
    block.attr("type", Raw(type_))
    if default is not ...:
        block.attr("default", default)
    if sensitive:
        block.attr("sensitive", True)
    return block


def output(name: str, value: Any, description: str) -> Block:
    return Block("output", (name,)).add(Attr("description", description), Attr("value", value))


def glacier_wheel_name() -> str:
    """The file name of Glacier's own wheel, as ``glacier terraform`` puts it under ``build/<cloud>/``."""
    from packaging.version import Version

    import glacier

    return f"glacier_pipelines-{Version(glacier.__version__)}-py3-none-any.whl"


def requirements(cloud: str, modules: dict[str, str]) -> str:
    """``src/requirements.txt``: the third-party packages a deployed task needs, pinned to this
    environment's versions. Glacier itself is not on the package index: the packages under
    ``build/`` vendor it (``glacier terraform`` builds them)."""
    from glacier.terraform.packaging.pins import runtime_pins

    pins, _ = runtime_pins(cloud, modules)
    head = "# Glacier itself is vendored in the packages under build/ (it is not on the package index).\n"
    return head + "".join(f"{p}\n" for p in pins)


class Renderer(Generic[S, F, V, K]):
    """Turns a :class:`Plan` into ``{filename: text}``; one subclass per cloud.

    The type parameters are the cloud's storage, function, VM and native cluster
    configs (``DatabricksConfig`` where the cloud has no cluster service of its own); the
    ``*_config`` class attributes hold them at run time, set from the parameters.
    """

    cloud: ClassVar[str] = ""
    orchestrator: ClassVar[str] = ""
    #: How the orchestrator orders tasks, as the header of main.tf says it.
    ordering: ClassVar[str] = (
        "It runs the tasks level by level: the tasks of one level run in parallel, and a level\n"
        "starts when the whole previous level has finished (a branch can wait for an unrelated task)."
    )
    providers: ClassVar[dict[str, tuple[str, str]]] = {}
    #: Whether the code folder carries a ``requirements.txt`` (functions that install packages).
    needs_requirements: ClassVar[bool] = False
    storage_config: type[S]
    function_config: type[F]
    vm_config: type[V]
    cluster_config: type[K]
    #: Outputs as (name, reference with ``{}`` for the identifier, description).
    bucket_output: ClassVar[tuple[str, str, str]]
    function_output: ClassVar[tuple[str, str, str]]
    flow_output: ClassVar[tuple[str, str, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is Renderer:
                cls.storage_config, cls.function_config, cls.vm_config, cls.cluster_config = get_args(base)

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    # -- hooks -----------------------------------------------------------------------
    def provider(self) -> Block:
        """The cloud's ``provider`` block."""
        raise NotImplementedError

    def foundation(self) -> list[Any]:
        """What comes before the executors: keys, buckets, code objects..."""
        raise NotImplementedError

    def identity(self, ex: ExecutorSpec) -> list[Block]:
        """The executor's least-privilege identity."""
        raise NotImplementedError

    def function(self, ex: ExecutorSpec, cfg: F) -> list[Block]:
        raise NotImplementedError

    def vm(self, ex: ExecutorSpec, cfg: V) -> list[Block]:
        raise NotImplementedError

    def cluster(self, ex: ExecutorSpec, cfg: K) -> list[Block]:
        raise NotImplementedError

    def flow(self, flow: Flow) -> list[Block]:
        """The orchestrator of one pipeline."""
        raise NotImplementedError

    def variables(self) -> list[Block]:
        raise NotImplementedError

    def extra_outputs(self) -> list[Block]:
        """Outputs after the bucket names (the artifacts bucket, the storage account)."""
        return []

    def local_runs_in(self) -> str:
        raise NotImplementedError

    def databricks_before(self, ex: ExecutorSpec) -> list[Block]:
        """The cloud's resources a Databricks job needs first (an instance profile, a connector)."""
        return []

    def databricks_node(self, ex: ExecutorSpec, cluster: Block) -> None:
        """Add the cloud's attributes to a job's ``new_cluster`` block."""

    def databricks_after(self, ex: ExecutorSpec) -> list[Block]:
        """The cloud's resources that call the job (a connection for the orchestrator)."""
        return []

    def extra_files(self) -> dict[str, str]:
        """Code files the cloud's functions need besides the handler and the modules."""
        return {}

    # -- shared ----------------------------------------------------------------------
    def main(self) -> list[Any]:
        items: list[Any] = [self.provider(), *self.databricks_provider(), *self.foundation()]
        for ex in self.plan.executors:
            items += self.identity(ex)
            items += self.compute(ex)
        for flow in self.plan.flows:
            items += self.flow(flow)
        return items

    def compute(self, ex: ExecutorSpec) -> list[Block]:
        """The resources that run ``ex``'s tasks, by its (re-targeted) config."""
        cfg = ex.config
        if isinstance(cfg, DatabricksConfig):
            return self.databricks(ex, cfg)
        if isinstance(cfg, self.function_config):
            return self.function(ex, cfg)
        if isinstance(cfg, self.vm_config):
            return self.vm(ex, cfg)
        if isinstance(cfg, self.cluster_config):
            return self.cluster(ex, cfg)
        raise ConfigError(f"executor {ex.name!r}: {type(cfg).__name__} cannot be generated for {self.cloud}")

    def storage(self, bucket: BucketSpec) -> S:
        """The bucket's (re-targeted) storage config, typed."""
        if isinstance(bucket.config, self.storage_config):
            return bucket.config
        raise ConfigError(
            f"bucket {bucket.name!r}: {type(bucket.config).__name__} cannot be generated for {self.cloud}"
        )

    def name(self, *parts: str) -> Raw:
        """A resource name under the ``name_prefix`` variable (see :func:`prefixed`)."""
        return template(prefixed(*parts))

    def functions(self) -> list[ExecutorSpec]:
        """Executors deployed as functions (``provider.local()`` ones included)."""
        return [e for e in self.plan.executors if e.kind in ("local", "serverless")]

    def uses(self, config_type: type[ExecutionConfig], flow: Flow | None = None) -> list[str]:
        """Identifiers of the executors (of ``flow``, or of the plan) whose config is ``config_type``."""
        executors = (
            [self.plan.executor(i) for i in sorted({s.executor for s in flow.steps})]
            if flow is not None
            else self.plan.executors
        )
        return [e.ident for e in executors if isinstance(e.config, config_type)]

    def wire_secrets(self, provider: Block) -> Block:
        """Set the provider's credentials from the sensitive variables the plan asks for."""
        prefix = f"{self.cloud}_"
        for secret in self.plan.secrets:
            if secret.name.startswith(prefix):
                provider.attr(WIRED[self.cloud][secret.name.removeprefix(prefix)], ref(f"var.{secret.name}"))
        return provider

    def archive(self) -> Block:
        """The zip of ``src/``: the pipeline modules and the handler."""
        return Block("data", ("archive_file", "code")).add(
            Attr("type", "zip"),
            Attr("source_dir", template("${path.module}/src")),
            Attr("output_path", template("${path.module}/build/code.zip")),
        )

    # -- Databricks (every cloud) ----------------------------------------------------------
    def databricks_provider(self) -> list[Block]:
        if not self.uses(DatabricksConfig):
            return []
        return [
            Block("provider", ("databricks",)).add(
                Attr("host", ref("var.databricks_host")), Attr("token", ref("var.databricks_token"))
            )
        ]

    def databricks(self, ex: ExecutorSpec, cfg: DatabricksConfig) -> list[Block]:
        """Workspace files, the job that runs one task, and its job cluster unless one is given."""
        items = [*self.databricks_before(ex), *self.databricks_files(ex)]
        job = Block("resource", ("databricks_job", ex.ident)).add(
            Attr("name", self.name(ex.ident)), Attr("max_concurrent_runs", 10)
        )
        for p in TASK_PARAMETERS:
            job.block("parameter").add(Attr("name", p), Attr("default", ""))
        task = job.block("task").attr("task_key", "run_task")
        if cfg.cluster_id:
            task.attr("existing_cluster_id", cfg.cluster_id)
        else:
            task.attr("job_cluster_key", "glacier")
        task.block("spark_python_task").add(
            Attr("python_file", template(f"${{databricks_workspace_file.{ex.ident}_0.path}}")),
            Attr("parameters", [f"{{{{job.parameters.{p}}}}}" for p in TASK_PARAMETERS]),
        )
        task.add(*self.databricks_libraries(ex))
        if cfg.cluster_id is None:
            node = job.block("job_cluster").attr("job_cluster_key", "glacier").block("new_cluster")
            node.add(
                Attr("spark_version", cfg.spark_version),
                Attr("node_type_id", cfg.instance_type or ref(f"data.databricks_node_type.{ex.ident}.id")),
                Attr("num_workers", cfg.num_workers),
            )
            self.databricks_node(ex, node)
            if cfg.instance_type is None:
                items.append(Block("data", ("databricks_node_type", ex.ident)).attr("local_disk", True))
        items.append(job)
        return [*items, *self.databricks_after(ex)]

    def databricks_files(self, ex: ExecutorSpec) -> list[Block]:
        """Workspace files: the entry point first (the job runs it), then the pipeline modules,
        then Glacier's wheel (``glacier terraform`` builds it under ``build/<cloud>/``)."""
        files = [f"src/{f}" for f in ["glacier_handler.py", *(f"{m}.py" for m in self.plan.modules)]]
        blocks = [
            Block("resource", ("databricks_workspace_file", f"{ex.ident}_{i}")).add(
                Attr("source", template(f"${{path.module}}/{f}")),
                Attr("path", template(f"/Shared/glacier/${{var.name_prefix}}/{f.removeprefix('src/')}")),
            )
            for i, f in enumerate(files)
        ]
        wheel = glacier_wheel_name()
        blocks.append(
            Block("resource", ("databricks_workspace_file", f"{ex.ident}_wheel")).add(
                Attr("source", template(f"${{path.module}}/build/{self.cloud}/{wheel}")),
                Attr("path", template(f"/Shared/glacier/${{var.name_prefix}}/{wheel}")),
            )
        )
        return blocks

    def databricks_libraries(self, ex: ExecutorSpec) -> list[Block]:
        """The job's libraries: Glacier's wheel, and every dependency pinned as in
        ``build/<cloud>/requirements.txt`` (the functions' versions, resolved by ``glacier terraform``)."""
        wheel = Block("library").attr(
            "whl", ref(f"databricks_workspace_file.{ex.ident}_wheel.workspace_path")
        )
        pins = Block("dynamic", ("library",)).attr(
            "for_each",
            Raw(
                f'[for r in split("\\n", file("${{path.module}}/build/{self.cloud}/requirements.txt")) '
                ': trimspace(r) if trimspace(r) != ""]'
            ),
        )
        pins.block("content").block("pypi").attr("package", ref("library.value"))
        return [wheel, pins]

    # -- files -----------------------------------------------------------------------
    def extra_providers(self) -> dict[str, tuple[str, str]]:
        if self.uses(DatabricksConfig):
            return {"databricks": ("databricks/databricks", "~> 1.0")}
        return {}

    def common_variables(self) -> list[Block]:
        plan = self.plan
        blocks = [
            variable(
                "name_prefix",
                "string",
                "Prefix of every resource name (functions, identities, orchestrator).",
                slug(plan.name),
            ),
            variable(
                "tags",
                "map(string)",
                "Tags (labels) put on every resource that takes them.",
                {"managed-by": "glacier", "pipeline": slug(plan.name)},
            ),
        ]
        hosts = [e.config.host for e in plan.executors if isinstance(e.config, DatabricksConfig)]
        if self.uses(DatabricksConfig):
            host = next((h for h in hosts if h), None)
            blocks.append(
                variable(
                    "databricks_host",
                    "string",
                    "URL of the Databricks workspace that runs the cluster tasks.",
                    host if host else ...,
                )
            )
        for secret in plan.secrets:
            blocks.append(
                variable(
                    secret.name,
                    "string",
                    f"Secret from {secret.description}; never stored in code.",
                    sensitive=True,
                )
            )
        return blocks

    def outputs(self) -> list[Block]:
        name, pattern, description = self.bucket_output
        out = [
            output(name, {b.name: ref(pattern.format(b.ident)) for b in self.plan.buckets}, description),
            *self.extra_outputs(),
        ]
        functions = self.functions()
        if functions:
            name, pattern, description = self.function_output
            out.append(output(name, {e.name: ref(pattern.format(e.ident)) for e in functions}, description))
        name, pattern, description = self.flow_output
        out.append(
            output(name, {f.pipeline: ref(pattern.format(f.ident)) for f in self.plan.flows}, description)
        )
        return out

    def header(self) -> Comment:
        plan = self.plan
        pipelines = ", ".join(f.pipeline for f in plan.flows)
        lines = [
            f"Generated by Glacier from pipeline(s) {pipelines} for {self.cloud.upper()}. Do not edit by hand:",
            "change the pipeline and run `glacier terraform` again.",
            "",
            f"Orchestrator: {self.orchestrator}.",
            *self.ordering.splitlines(),
        ]
        if plan.has_local:
            lines += ["", *self.local_runs_in().splitlines()]
        lines += [
            "",
            "Code: src/ holds the pipeline module(s) and glacier_handler.py, the entry point every",
            "deployed task runs. `glacier terraform` builds the packages under build/: Glacier and every",
            "dependency pinned to the exporting environment, resolved for the runtime (docs/terraform.md).",
        ]
        if not plan.modules:
            lines += [
                "WARNING: the pipeline has no module file (defined in a notebook?): export it as a",
                "module (%glacier export module PATH), import the pipeline from it and generate again.",
            ]
        return Comment("\n".join(lines))

    def versions(self) -> Block:
        providers = {**self.providers, **self.extra_providers()}
        req = Block("required_providers")
        for name in sorted(providers):
            source, version = providers[name]
            req.attr(name, {"source": source, "version": version})
        return Block("terraform").add(Attr("required_version", ">= 1.6"), req)

    def render(self) -> dict[str, str]:
        plan = self.plan
        files = {
            "main.tf": render_file([self.header(), *self.main()]),
            "outputs.tf": render_file(self.outputs()),
            "variables.tf": render_file([*self.common_variables(), *self.variables()]),
            "versions.tf": render_file([self.versions()]),
            "src/glacier_handler.py": handler_source(list(plan.modules)),
            **self.extra_files(),
        }
        for module, text in plan.modules.items():
            files[f"src/{module}.py"] = text
        if self.needs_requirements:
            files["src/requirements.txt"] = requirements(self.cloud, plan.modules)
        return dict(sorted(files.items()))
