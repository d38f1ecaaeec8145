"""GCP: the generated Workflows, Cloud Functions and Compute Engine start-up script, run locally.

Storage is whatever the standard variables name (``STORAGE_EMULATOR_HOST``: the GCS
emulator in the tests). The rehearsal does what ``apply`` would for the data plane: it
creates the buckets, zips ``src/`` as ``archive_file`` does and uploads every
``google_storage_bucket_object``. Each Cloud Function is then built as Cloud Build builds
it (its source object fetched from the bucket, ``requirements.txt`` installed) and served by
``functions-framework`` in an isolated process with the environment the Terraform gives it;
the workflow calls it over HTTP. A VM runs its start-up script with real ``bash``
(``machine.py``) when the workflow starts it.

What it does not prove: IAM (the emulator checks no permission: the service accounts'
bindings are not exercised), the Cloud Functions build itself, networking and ingress.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.terraform.rehearse.asl import ExecutionFailed
from glacier.terraform.rehearse.hosts import FunctionServer, check_python, install_requirements, unzip
from glacier.terraform.rehearse.machine import Machine
from glacier.terraform.rehearse.model import RehearsalError, TerraformModel
from glacier.terraform.rehearse.report import TaskResult
from glacier.terraform.rehearse.workflows import Failed, WorkflowError, WorkflowExecution

__all__ = ["GcpRehearsal", "GcpModel", "endpoint_env", "site_cache"]

_ENDPOINT_VARS = ("STORAGE_EMULATOR_HOST", "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "GOOGLE_CLOUD_PROJECT")
_FORMAT_MD5 = re.compile(r'^\$\{format\("([^"]*)",\s*filemd5\("(.*)"\)\)\}$')


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def site_cache() -> Path:
    """Where installed requirements are kept between rehearsals (by their digest)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "glacier" / "rehearsal"
    root.mkdir(parents=True, exist_ok=True)
    return root


class GcpModel(TerraformModel):
    """The Terraform folder with GCP stand-ins: service-account e-mails, object names from
    the built files' digests, function URLs of the local servers."""

    def __init__(self, out: Path, *, project: str) -> None:
        super().__init__(out)
        self.variables["project_id"] = project
        self.project = project
        self.urls: dict[str, str] = {}

    def resolve(self, ref: str) -> Any:
        parts = ref.split(".")
        if parts[:2] == ["data", "archive_file"] and parts[3] == "output_md5":
            path = Path(self.template(self.data["archive_file", parts[2]]["output_path"]))
            return _md5(path) if path.is_file() else "0" * 32
        if len(parts) == 3 and parts[0] == "google_storage_bucket_object" and parts[2] == "name":
            return self.object_name(parts[1])
        if len(parts) == 3 and parts[0] == "google_cloudfunctions2_function" and parts[2] == "url":
            return self.urls.get(parts[1], f"http://function-{parts[1]}.rehearsal.invalid")
        return super().resolve(ref)

    def object_name(self, ident: str) -> str:
        raw = self.resources["google_storage_bucket_object", ident]["name"]
        m = _FORMAT_MD5.match(raw)
        if m:
            path = Path(self.template(m.group(2)))
            if not path.is_file():
                raise RehearsalError(f"{path} is missing: build the packages (glacier terraform --out) first")
            return m.group(1).replace("%s", _md5(path))
        return str(self.template(raw))

    def _computed(self, type_: str, name: str, attr: str, body: dict[str, Any]) -> Any:
        if type_ == "google_service_account":
            email = f"{self.template(body['account_id'])}@{self.project}.iam.gserviceaccount.com"
            return email if attr == "email" else f"projects/{self.project}/serviceAccounts/{email}"
        if attr == "name" and "name" in body:
            return self.template(body["name"])
        return super()._computed(type_, name, attr, body)


@dataclass
class _Vm:
    machine: Machine
    status: str = "TERMINATED"
    fingerprint: int = 0
    thread: threading.Thread | None = None
    output: str = ""


@dataclass
class GcpRehearsal:
    """One rehearsal of the Terraform folder ``out`` on the storage the environment names."""

    out: Path
    env: dict[str, str]
    work: Path
    steps: dict[str, str]  # task node -> step identifier, per flow being run
    wheelhouse: Path | None = None
    model: GcpModel = field(init=False)
    results: dict[str, TaskResult] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    servers: dict[str, FunctionServer] = field(default_factory=dict)
    vms: dict[str, _Vm] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.model = GcpModel(self.out, project=self.env.get("GOOGLE_CLOUD_PROJECT") or "rehearsal-project")

    # -- storage ---------------------------------------------------------------------
    def _fs(self) -> Any:
        import gcsfs

        endpoint = self.env.get("STORAGE_EMULATOR_HOST")
        if endpoint:
            return gcsfs.GCSFileSystem(endpoint_url=endpoint, token="anon", project=self.model.project)
        return gcsfs.GCSFileSystem(project=self.model.project)

    # -- what apply does -------------------------------------------------------------
    def apply(self) -> None:
        """Buckets, archives and objects; every function built and served; every VM."""
        from glacier.terraform.rehearse.aws import _zip_dir

        for (type_, _name), body in self.model.data.items():
            if type_ == "archive_file":
                _zip_dir(
                    Path(self.model.template(body["source_dir"])),
                    Path(self.model.template(body["output_path"])),
                )
        fs = self._fs()
        for ident in self.model.of_type("google_storage_bucket"):
            bucket = self.model.resolve(f"google_storage_bucket.{ident}.name")
            if not fs.exists(bucket):
                fs.mkdir(bucket)
        for ident, body in self.model.of_type("google_storage_bucket_object").items():
            target = f"{self.model.template(body['bucket'])}/{self.model.object_name(ident)}"
            source = Path(self.model.template(body["source"]))
            if not source.is_file():
                raise RehearsalError(
                    f"google_storage_bucket_object.{ident} uploads {source}, which does not exist: build the "
                    "packages (glacier terraform ... --out) before rehearsing"
                )
            fs.pipe_file(target, source.read_bytes())
        for ident, body in self.model.of_type("google_cloudfunctions2_function").items():
            self._serve(ident, body, fs)
        for ident, body in self.model.of_type("google_compute_instance").items():
            name = self.model.resolve(f"google_compute_instance.{ident}.name")
            metadata = {k: str(self.model.template(v)) for k, v in body.get("metadata", {}).items()}
            machine = Machine(ident, self.work, metadata, self.model.project, self._storage_env())
            self.vms[name] = _Vm(machine)
            account = body["service_account"][0]["email"]
            self.identities[ident] = str(self.model.template(account))

    def _storage_env(self) -> dict[str, str]:
        return {k: self.env[k] for k in _ENDPOINT_VARS if self.env.get(k)}

    def _serve(self, ident: str, body: dict[str, Any], fs: Any) -> None:
        """Build the function as Cloud Build would and serve it as Cloud Functions would."""
        build = body["build_config"][0]
        runtime = build["runtime"]
        check_python(f"{runtime[6]}.{runtime[7:]}", f"Cloud Function {ident} ({runtime})")
        storage = build["source"][0]["storage_source"][0]
        obj = f"{self.model.template(storage['bucket'])}/{self.model.template(storage['object'])}"
        archive = self.work / f"source-{ident}.zip"
        fs.get(obj, str(archive))  # what Cloud Build fetches
        code = unzip(archive, self.work / f"function-{ident}")
        if not (code / "main.py").is_file():
            raise RehearsalError(
                f"the source of Cloud Function {ident} has no main.py: Cloud Functions cannot load it"
            )
        site = install_requirements(code / "requirements.txt", site_cache(), wheelhouse=self.wheelhouse)
        service = body["service_config"][0]
        name = self.model.resolve(f"google_cloudfunctions2_function.{ident}.name")
        env = {k: str(self.model.template(v)) for k, v in service.get("environment_variables", {}).items()}
        env.update(
            self._storage_env(),
            K_SERVICE=name,
            FUNCTION_TARGET=build["entry_point"],
            CLOUD_RUN_TIMEOUT_SECONDS=str(service.get("timeout_seconds", 60)),
            GLACIER_PROGRESS="0",
        )
        server = FunctionServer("gcp", [code, site], env, code, target=build["entry_point"]).start()
        self.servers[ident] = server
        self.model.urls[ident] = server.url
        self.identities[ident] = str(self.model.template(service["service_account_email"]))

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        for vm in self.vms.values():
            vm.machine.stop()

    # -- the orchestrator --------------------------------------------------------------
    def definition(self, ident: str, fallback: Any) -> tuple[dict[str, Any], str]:
        rendered = self.model.evaluate("google_workflows_workflow", ident, "source_contents")
        if rendered is None:
            raise RehearsalError("rehearsing a Workflows definition needs the terraform binary on PATH")
        return rendered, "terraform"

    def execute(self, definition: dict[str, Any], run_id: str) -> WorkflowExecution:
        execution = WorkflowExecution(definition, self.call, run_id)
        try:
            execution.run()
        except Failed as exc:
            error = exc.error
            tag = (error.get("tags") or ["Error"])[0] if isinstance(error, dict) else "Error"
            raise ExecutionFailed(tag, str(exc), exc.step) from None
        return execution

    def staged(self, run_id: str, node: str) -> Any:
        import polars as pl

        bucket = self.model.resolve("google_storage_bucket.glacier_artifacts.name")
        with self._fs().open(f"{bucket}/runs/{run_id}/{node}.parquet", "rb") as fh:
            return pl.read_parquet(fh)

    # -- calls -----------------------------------------------------------------------
    def call(self, function: str, args: dict[str, Any], step: str) -> Any:
        if function in ("http.post", "http.get"):
            return self._http(function.split(".")[1].upper(), args)
        if function.startswith("googleapis.compute.v1.instances."):
            return self._instance(function.rsplit(".", 1)[1], args)
        if function == "googleapis.storage.v1.objects.get":
            return self._object(args)
        raise WorkflowError.of(
            "RehearsalError",
            f"step {step} calls {function}, which the rehearsal does not run (Dataproc, Databricks)",
        )

    def _function_of(self, url: str) -> str | None:
        return next((i for i, s in self.servers.items() if url.startswith(s.url)), None)

    def _http(self, method: str, args: dict[str, Any]) -> Any:
        url = args["url"]
        if args.get("query"):
            url += "?" + urllib.parse.urlencode(args["query"])
        headers = {"Content-Type": "application/json", **args.get("headers", {})}
        if args.get("auth", {}).get("type") == "OIDC":
            headers["Authorization"] = "Bearer rehearsal-oidc-token"
        data = json.dumps(args["body"]).encode() if "body" in args else None
        ident = self._function_of(url)
        task = args.get("body", {}).get("task") if isinstance(args.get("body"), dict) else None
        if ident and task:
            self._started(task, f"Cloud Function {ident}", self.identities.get(ident, ""))
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=float(args.get("timeout", 300))) as resp:
                body = _parse(resp.read(), resp.headers.get("Content-Type", ""))
                answer = {"body": body, "code": resp.status, "headers": dict(resp.headers)}
        except urllib.error.HTTPError as err:
            body = _parse(err.read(), err.headers.get("Content-Type", "") if err.headers else "")
            error = {
                "tags": ["HttpError"],
                "code": err.code,
                "message": f"HTTP server responded with error code {err.code}",
                "body": body,
            }
            if ident and task:
                self._ended(task, {"status": "failed", "message": self._why(ident, body, err.code)})
            raise WorkflowError(error) from None
        except TimeoutError:
            raise WorkflowError.of("TimeoutError", f"{method} {url} timed out") from None
        except urllib.error.URLError as err:
            tag = "TimeoutError" if isinstance(err.reason, TimeoutError) else "ConnectionError"
            raise WorkflowError.of(tag, f"{method} {url}: {err.reason}") from None
        if ident and task and isinstance(body, dict):
            self._ended(task, {"status": "succeeded", **body})
        return answer

    def _why(self, ident: str, body: Any, code: int) -> str:
        """Why a function answered an error: the exception its log shows, else the answer."""
        log = self.servers[ident].log
        lines = log.read_text(errors="replace").splitlines() if log is not None and log.is_file() else []
        raised = [
            line.strip() for line in lines if re.match(r"^\s*[A-Za-z_.]+(Error|Exception|Denied)\b", line)
        ]
        return raised[-1] if raised else _message(body, code)

    def _object(self, args: dict[str, Any]) -> Any:
        name = urllib.parse.unquote(args["object"])
        path = f"{args['bucket']}/{name}"
        fs = self._fs()
        fs.invalidate_cache()
        try:
            data = fs.cat_file(path)
            kind = fs.info(path).get("contentType", "")
        except FileNotFoundError:
            raise WorkflowError(
                {"tags": ["HttpError"], "code": 404, "message": f"No such object: {path}"}
            ) from None
        value = _parse(data, kind)
        m = re.fullmatch(r"runs/[^/]+/(.+)\.outcome\.json", name)
        if m and isinstance(value, dict) and value.get("status") != "running":
            self._ended(m.group(1), value)
        return value

    def _instance(self, verb: str, args: dict[str, Any]) -> Any:
        vm = self.vms.get(args["instance"])
        if vm is None:
            raise WorkflowError(
                {"tags": ["HttpError"], "code": 404, "message": f"instance {args['instance']} not found"}
            )
        if verb == "get":
            items = [{"key": k, "value": v} for k, v in vm.machine.metadata.items()]
            return {"name": args["instance"], "status": vm.status,
                    "metadata": {"fingerprint": f"fp-{vm.fingerprint}", "items": items}}  # fmt: skip
        if verb == "setMetadata":
            body = args["body"]
            if body.get("fingerprint") != f"fp-{vm.fingerprint}":
                raise WorkflowError(
                    {"tags": ["HttpError"], "code": 412, "message": "metadata fingerprint mismatch"}
                )
            vm.machine.metadata = {i["key"]: i["value"] for i in body["items"]}
            vm.fingerprint += 1
            return {"status": "DONE"}
        if verb == "start":
            if vm.status != "TERMINATED":
                raise WorkflowError(
                    {"tags": ["HttpError"], "code": 400, "message": f"instance is {vm.status}"}
                )
            task = vm.machine.metadata.get("glacier-task", "").split()
            if len(task) > 1:
                ident = next(i for i, b in self.model.of_type("google_compute_instance").items()
                             if self.model.resolve(f"google_compute_instance.{i}.name") == args["instance"])  # fmt: skip
                self._started(task[1], f"VM {args['instance']}", self.identities.get(ident, ""))
            vm.status = "RUNNING"
            vm.thread = threading.Thread(target=self._boot, args=(vm,), daemon=True)
            vm.thread.start()
            return {"status": "DONE"}
        raise WorkflowError.of("RehearsalError", f"instances.{verb} is not rehearsed")

    def _boot(self, vm: _Vm) -> None:
        """The VM boots: its start-up script runs; it is TERMINATED once the script powers it off."""
        script = vm.machine.metadata.get("startup-script", "")
        proc = vm.machine.run(script)
        vm.output = (proc.stdout or "") + (proc.stderr or "")
        if vm.machine.powered_off:
            vm.status = "TERMINATED"

    # -- results ---------------------------------------------------------------------
    def _started(self, task: str, where: str, identity: str) -> None:
        key = self.steps.get(task, task)
        with self._lock:
            result = self.results.setdefault(key, TaskResult(task=task, where=where))
            result.attempts += 1
            result.status = "running"
            result.identity = f"{identity} (IAM not enforced by the emulator)" if identity else ""

    def _ended(self, task: str, outcome: dict[str, Any]) -> None:
        key = self.steps.get(task, task)
        with self._lock:
            result = self.results.setdefault(key, TaskResult(task=task, where="-"))
            if outcome.get("status") == "succeeded":
                result.status, result.error = "succeeded", None
                result.rows = outcome.get("rows", result.rows)
            else:
                result.status = "failed"
                result.error = str(outcome.get("message") or outcome.get("error") or outcome)


def _parse(data: bytes, content_type: str) -> Any:
    text = data.decode("utf-8", errors="replace")
    if "json" in content_type or text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _message(body: Any, code: int) -> str:
    if isinstance(body, dict):
        return f"{body.get('error', 'HTTP ' + str(code))}: {body.get('message', '')}".strip(": ")
    text = str(body).strip()
    tail = [line for line in text.splitlines() if line.strip()][-1:] if text else []
    return f"HTTP {code}" + (f": {tail[0][:300]}" if tail else "")


def endpoint_env() -> dict[str, str]:
    """The variables of this process that name GCP storage and the project."""
    return {k: os.environ[k] for k in _ENDPOINT_VARS if os.environ.get(k)}
