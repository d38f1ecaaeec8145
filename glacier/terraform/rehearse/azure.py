"""Azure: the generated Logic App, function apps and VM task script, run locally.

Storage is whatever the standard variable names (``AZURE_STORAGE_CONNECTION_STRING``:
Azurite in the tests); the storage account variable stands for that account. The rehearsal
does what ``apply`` would for the data plane: it creates the containers, zips ``src/`` as
``archive_file`` does and uploads every ``azurerm_storage_blob``. Each function app is built
as the remote (Oryx) build would build it (its ``requirements.txt`` installed), its
``function_app.py`` loaded through ``azure-functions`` in an isolated process with the app
settings the Terraform gives it, and its HTTP triggers served with a function key; the Logic
App's actions call them. A VM's Run Command script runs with real ``bash`` (``machine.py``).

What loading through ``azure-functions`` does not prove: the Functions host (the .NET
process that indexes the app, enforces ``functionTimeout``, scales and recycles instances
and keeps a background task alive after its invocation), the remote build on the platform,
the app's managed-identity connection to ``AzureWebJobsStorage``, Entra ID role assignments
(Azurite checks none), networking (public access, IP restrictions) and Run Command itself.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.terraform.rehearse.asl import ExecutionFailed
from glacier.terraform.rehearse.gcp import _FORMAT_MD5, _md5, _parse, site_cache
from glacier.terraform.rehearse.hosts import FunctionServer, check_python, install_requirements, unzip
from glacier.terraform.rehearse.logicapp import LogicAppRun, Terminated
from glacier.terraform.rehearse.machine import Machine
from glacier.terraform.rehearse.model import RehearsalError, TerraformModel, _terraform_eval
from glacier.terraform.rehearse.report import TaskResult

__all__ = ["AzureRehearsal", "AzureModel", "endpoint_env"]

_ENDPOINT_VARS = ("AZURE_STORAGE_CONNECTION_STRING",)
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def _account_of(connection: str | None) -> str | None:
    m = re.search(r"AccountName=([^;]+)", connection or "")
    return m.group(1) if m else None


class AzureModel(TerraformModel):
    """The Terraform folder with Azure stand-ins: resource ids, identities' client ids, blob
    names from the built files' digests; the storage account is the one the rehearsal uses."""

    def __init__(self, out: Path, *, account: str | None) -> None:
        super().__init__(out)
        if account:
            self.variables["storage_account_name"] = account
        self.variables["subscription_id"] = SUBSCRIPTION

    def resolve(self, ref: str) -> Any:
        parts = ref.split(".")
        if parts[:2] == ["data", "archive_file"] and parts[3] == "output_md5":
            path = Path(self.template(self.data["archive_file", parts[2]]["output_path"]))
            return _md5(path) if path.is_file() else "0" * 32
        if parts[:2] == ["data", "azurerm_client_config"]:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, "rehearsal-deployer"))
        if len(parts) == 3 and parts[0] == "azurerm_storage_blob" and parts[2] == "name":
            return self.blob_name(parts[1])
        return super().resolve(ref)

    def blob_name(self, ident: str) -> str:
        raw = self.resources["azurerm_storage_blob", ident]["name"]
        m = _FORMAT_MD5.match(raw)
        if m:
            path = Path(self.template(m.group(2)))
            if not path.is_file():
                raise RehearsalError(f"{path} is missing: build the packages (glacier terraform --out) first")
            return m.group(1).replace("%s", _md5(path))
        return str(self.template(raw))

    def _computed(self, type_: str, name: str, attr: str, body: dict[str, Any]) -> Any:
        label = self.template(body["name"]) if isinstance(body.get("name"), str) else name
        if attr == "id":
            group = self.variables.get("resource_group_name", "rehearsal-rg")
            kind = type_.removeprefix("azurerm_")
            return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Rehearsal/{kind}/{label}"
        if attr in ("client_id", "principal_id", "object_id"):
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{type_}.{name}.{attr}"))
        if attr == "default_hostname":
            return f"{label}.azurewebsites.net"
        if attr == "name":
            return label
        return super()._computed(type_, name, attr, body)


@dataclass
class AzureRehearsal:
    """One rehearsal of the Terraform folder ``out`` on the storage the environment names."""

    out: Path
    env: dict[str, str]
    work: Path
    steps: dict[str, str]  # task node -> step identifier, per flow being run
    wheelhouse: Path | None = None
    model: AzureModel = field(init=False)
    results: dict[str, TaskResult] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    servers: dict[str, FunctionServer] = field(default_factory=dict)
    machines: dict[str, Machine] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        connection = self.env.get("AZURE_STORAGE_CONNECTION_STRING")
        if not connection:
            raise RehearsalError(
                "an Azure rehearsal needs storage: set AZURE_STORAGE_CONNECTION_STRING (Azurite's, or an account's)"
            )
        self.model = AzureModel(self.out, account=_account_of(connection))

    def _service(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.env["AZURE_STORAGE_CONNECTION_STRING"])

    # -- what apply does -------------------------------------------------------------
    def apply(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        from glacier.terraform.rehearse.aws import _zip_dir

        for (type_, _name), body in self.model.data.items():
            if type_ == "archive_file":
                _zip_dir(
                    Path(self.model.template(body["source_dir"])),
                    Path(self.model.template(body["output_path"])),
                )
        service = self._service()
        for ident in self.model.of_type("azurerm_storage_container"):
            try:
                service.create_container(self.model.resolve(f"azurerm_storage_container.{ident}.name"))
            except ResourceExistsError:
                pass
        for ident, body in self.model.of_type("azurerm_storage_blob").items():
            source = Path(self.model.template(body["source"]))
            if not source.is_file():
                raise RehearsalError(
                    f"azurerm_storage_blob.{ident} uploads {source}, which does not exist: build the packages first"
                )
            container = self.model.template(body["storage_container_name"])
            with open(source, "rb") as fh:
                service.get_blob_client(container, self.model.blob_name(ident)).upload_blob(
                    fh, overwrite=True
                )
        for ident, body in self.model.of_type("azurerm_linux_function_app").items():
            self._serve(ident, body)
        storage = {"AZURE_STORAGE_CONNECTION_STRING": self.env["AZURE_STORAGE_CONNECTION_STRING"]}
        for ident in self.model.of_type("azurerm_linux_virtual_machine"):
            self.machines[str(self.model.resolve(f"azurerm_linux_virtual_machine.{ident}.id"))] = Machine(
                ident, self.work, storage_env=storage
            )
            self.identities[ident] = f"azurerm_user_assigned_identity.{ident}"

    def _serve(self, ident: str, body: dict[str, Any]) -> None:
        """Build the app as the remote build would, serve its HTTP triggers as the host would."""
        stack = body["site_config"][0]["application_stack"][0]
        check_python(str(stack["python_version"]), f"function app {ident} (Python {stack['python_version']})")
        archive = Path(self.model.template(body["zip_deploy_file"]))
        if not archive.is_file():
            raise RehearsalError(f"{archive} is missing: build the packages (glacier terraform --out) first")
        app = unzip(archive, self.work / f"app-{ident}")
        if not (app / "function_app.py").is_file():
            raise RehearsalError(
                f"the app of {ident} has no function_app.py: Azure Functions cannot index it"
            )
        site = install_requirements(app / "requirements.txt", site_cache(), wheelhouse=self.wheelhouse)
        env = {k: str(self.model.template(v)) for k, v in body.get("app_settings", {}).items()}
        env.update(
            AZURE_STORAGE_CONNECTION_STRING=self.env["AZURE_STORAGE_CONNECTION_STRING"], GLACIER_PROGRESS="0"
        )
        server = FunctionServer("azure", [app, site], env, app, key=secrets.token_urlsafe(16)).start()
        self.servers[str(self.model.resolve(f"azurerm_linux_function_app.{ident}.id"))] = server
        identity = body["identity"][0]["identity_ids"][0]
        self.identities[ident] = str(identity).removeprefix("${").removesuffix(".id}")

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        for machine in self.machines.values():
            machine.stop()

    # -- the orchestrator --------------------------------------------------------------
    def definition(self, ident: str, fallback: Any) -> tuple[dict[str, Any], str]:
        """The workflow's actions, each ``azurerm_logic_app_action_custom`` body evaluated by Terraform."""
        workflow = f"${{azurerm_logic_app_workflow.{ident}.id}}"
        names = {
            label: body["name"]
            for label, body in self.model.of_type("azurerm_logic_app_action_custom").items()
            if body["logic_app_id"] == workflow
        }
        if not names:
            raise RehearsalError(f"the Logic App {ident} has no actions")
        parts = ", ".join(
            f'"{names[label]}" = jsondecode({self.model.expression("azurerm_logic_app_action_custom", label, "body")})'
            for label in sorted(names)
        )
        try:
            return json.loads(_terraform_eval(f"jsonencode({{{parts}}})")), "terraform"
        except FileNotFoundError:
            raise RehearsalError("rehearsing a Logic App needs the terraform binary on PATH") from None

    def execute(self, definition: dict[str, Any], run_id: str) -> LogicAppRun:
        run = LogicAppRun(definition, self.call, run_id, {})
        try:
            run.run()
        except Terminated as stop:
            raise ExecutionFailed("TaskFailed", stop.error, stop.action) from None
        return run

    def staged(self, run_id: str, node: str) -> Any:
        import io

        import polars as pl

        blob = self._service().get_blob_client("glacier-artifacts", f"runs/{run_id}/{node}.parquet")
        return pl.read_parquet(io.BytesIO(blob.download_blob().readall()))

    # -- calls -----------------------------------------------------------------------
    def call(self, action: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if "function" in inputs:
            return self._function(inputs)
        uri = inputs.get("uri", "")
        if uri.startswith("https://management.azure.com") and "/runCommand" in uri:
            return self._run_command(uri, inputs)
        if ".blob.core.windows.net/" in uri:
            return self._blob(uri)
        return {
            "statusCode": 501,
            "body": {"message": f"{action} calls {uri}, which the rehearsal does not run (Databricks)"},
        }

    def _function(self, inputs: dict[str, Any]) -> dict[str, Any]:
        function_id = inputs["function"]["id"]
        app_id, _, name = function_id.partition("/functions/")
        server = self.servers.get(app_id)
        if server is None:
            return {"statusCode": 404, "body": {"message": f"no function app {app_id}"}}
        body = inputs.get("body", {})
        task = body.get("task") if isinstance(body, dict) else None
        app = app_id.rsplit("/", 1)[1]
        if task:
            self._started(task, f"Function {app}", self._identity(app_id))
        request = urllib.request.Request(
            f"{server.url}/api/{name}", data=json.dumps(body).encode(), method=inputs.get("method", "POST"),
            headers={"Content-Type": "application/json", "x-functions-key": server.key},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=120) as resp:  # a Logic App's outbound limit
                return {
                    "statusCode": resp.status,
                    "body": _parse(resp.read(), resp.headers.get("Content-Type", "")),
                }
        except urllib.error.HTTPError as err:
            answer = _parse(err.read(), err.headers.get("Content-Type", "") if err.headers else "")
            if task:
                self._ended(task, {"status": "failed", "message": str(answer)})
            return {"statusCode": err.code, "body": answer}
        except (TimeoutError, urllib.error.URLError) as err:
            return {"statusCode": 0, "body": {"message": f"{name}: {err}"}}

    def _identity(self, app_id: str) -> str:
        ident = next((i for i in self.model.of_type("azurerm_linux_function_app")
                      if str(self.model.resolve(f"azurerm_linux_function_app.{i}.id")) == app_id), "")  # fmt: skip
        return self.identities.get(ident, "")

    def _run_command(self, uri: str, inputs: dict[str, Any]) -> dict[str, Any]:
        vm_id = uri.removeprefix("https://management.azure.com").split("/runCommand", 1)[0]
        machine = self.machines.get(vm_id)
        if machine is None:
            return {"statusCode": 404, "body": {"message": f"no VM {vm_id}"}}
        lines = inputs["body"]["script"]
        task = next((ln.split("'")[1].split() for ln in lines if ln.startswith("GLACIER_TASK=")), [])
        if len(task) > 1:
            self._started(task[1], f"VM {vm_id.rsplit('/', 1)[1]}", self.identities.get(machine.name, ""))
        proc = machine.run("\n".join(lines), timeout=600)
        message = [{"code": "ProvisioningState/succeeded" if proc.returncode == 0 else "ProvisioningState/failed",
                    "message": f"Enable succeeded: [stdout] {proc.stdout[-1000:]} [stderr] {proc.stderr[-1000:]}"}]  # fmt: skip
        return {"statusCode": 200 if proc.returncode == 0 else 409, "body": {"value": message}}

    def _blob(self, uri: str) -> dict[str, Any]:
        from azure.core.exceptions import ResourceNotFoundError

        container, _, name = uri.split(".blob.core.windows.net/", 1)[1].partition("/")
        client = self._service().get_blob_client(container, name.split("?", 1)[0])
        try:
            downloaded = client.download_blob()
            data = downloaded.readall()
        except ResourceNotFoundError:
            return {"statusCode": 404, "body": {"message": f"The specified blob does not exist: {name}"}}
        kind = downloaded.properties.content_settings.content_type or ""
        body = _parse(data, kind) if "json" in kind else {"$content-type": kind, "$content": data.hex()}
        m = re.fullmatch(r"runs/[^/]+/(.+)\.outcome\.json", name)
        if m and isinstance(body, dict) and body.get("status") not in (None, "running"):
            self._ended(m.group(1), body)
        return {"statusCode": 200, "body": body}

    # -- results ---------------------------------------------------------------------
    def _started(self, task: str, where: str, identity: str) -> None:
        key = self.steps.get(task, task)
        with self._lock:
            result = self.results.setdefault(key, TaskResult(task=task, where=where))
            result.attempts += 1
            result.status = "running"
            result.identity = f"{identity} (roles not enforced by Azurite)" if identity else ""

    def _ended(self, task: str, outcome: dict[str, Any]) -> None:
        key = self.steps.get(task, task)
        with self._lock:
            result = self.results.setdefault(key, TaskResult(task=task, where="-"))
            if result.status in ("succeeded", "failed"):
                return
            if outcome.get("status") == "succeeded":
                result.status, result.error = "succeeded", None
                result.rows = outcome.get("rows", result.rows)
            else:
                result.status = "failed"
                result.error = str(outcome.get("message") or outcome)


def endpoint_env() -> dict[str, str]:
    """The variables of this process that name Azure storage."""
    return {k: os.environ[k] for k in _ENDPOINT_VARS if os.environ.get(k)}
