"""AWS: the generated Step Functions machines, Lambda functions and EC2 commands, run locally.

Storage is whatever the standard variables name (``AWS_ENDPOINT_URL``: moto in the tests).
The rehearsal does what ``apply`` would for the data plane: it creates the buckets, zips
``src/`` as ``archive_file`` does, uploads every ``aws_s3_object``; then, for each function
and instance role, an IAM user holding exactly the role's generated policy, whose keys the
task runs with. With IAM enforced (moto's ``INITIAL_NO_AUTH_ACTION_COUNT``), a missing
permission fails the task with ``AccessDenied`` as it would in the account.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.terraform.rehearse.asl import Execution, TaskFailure
from glacier.terraform.rehearse.isolated import Outcome, run_function, run_script
from glacier.terraform.rehearse.model import RehearsalError, TerraformModel
from glacier.terraform.rehearse.report import TaskResult

__all__ = ["AwsRehearsal"]

_ENDPOINT_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ALLOW_HTTP", "AWS_CA_BUNDLE")


def _zip_dir(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(source).as_posix())


@dataclass
class _Identity:
    role: str
    user: str
    key: str
    secret: str
    statements: int
    policy: dict[str, Any] = field(default_factory=dict)

    def grants(self, action: str, resource: str) -> bool:
        """Whether an Allow statement of the generated policy names ``action`` on ``resource``."""
        from fnmatch import fnmatchcase

        for st in self.policy.get("Statement", []):
            if st.get("Effect") != "Allow":
                continue
            if any(fnmatchcase(action, a) for a in st.get("Action", [])) and any(
                fnmatchcase(resource, r) for r in st.get("Resource", [])
            ):
                return True
        return False


@dataclass
class AwsRehearsal:
    """One rehearsal of the Terraform folder ``out`` on the storage the environment names."""

    out: Path
    env: dict[str, str]
    work: Path
    model: TerraformModel = field(init=False)
    results: dict[str, TaskResult] = field(default_factory=dict)
    identities: dict[str, _Identity] = field(default_factory=dict)
    _unpacked: dict[str, Path] = field(default_factory=dict)
    _commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.model = TerraformModel(
            self.out, region=self.env.get("AWS_DEFAULT_REGION") or self.env.get("AWS_REGION")
        )
        self.region = self.model.variables.get("region", "us-east-1")

    # -- clients with the rehearsal's own credentials ----------------------------------
    def _client(self, service: str, identity: _Identity | None = None) -> Any:
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        endpoint = self.env.get("AWS_ENDPOINT_URL")
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        if identity is not None:
            kwargs.update(aws_access_key_id=identity.key, aws_secret_access_key=identity.secret)
        elif self.env.get("AWS_ACCESS_KEY_ID"):
            kwargs.update(
                aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=self.env.get("AWS_SECRET_ACCESS_KEY"),
                aws_session_token=self.env.get("AWS_SESSION_TOKEN"),
            )
        return boto3.client(service, **kwargs)

    # -- what apply does for the data plane --------------------------------------------
    def apply(self) -> None:
        """Buckets, archives, uploaded objects, and one IAM user per task role."""
        for name, body in self.model.data.items():
            if name[0] == "archive_file":
                src = Path(self.model.template(body["source_dir"]))
                _zip_dir(src, Path(self.model.template(body["output_path"])))
        s3 = self._client("s3")
        for ident in self.model.of_type("aws_s3_bucket"):
            bucket = self.model.resolve(f"aws_s3_bucket.{ident}.bucket")
            try:
                s3.head_bucket(Bucket=bucket)
            except Exception:
                args: dict[str, Any] = {"Bucket": bucket}
                if self.region != "us-east-1":
                    args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
                s3.create_bucket(**args)
        for ident, body in self.model.of_type("aws_s3_object").items():
            bucket = self.model.template(body["bucket"])
            source = Path(self.model.template(body["source"]))
            if not source.is_file():
                raise RehearsalError(
                    f"aws_s3_object.{ident} uploads {source}, which does not exist: build the packages "
                    "(glacier terraform ... --out) before rehearsing"
                )
            s3.upload_file(str(source), bucket, self.model.template(body["key"]))
        for ident in self.model.of_type("aws_lambda_layer_version"):  # Lambda publishes layers at apply
            self._layer(self.model.resolve(f"aws_lambda_layer_version.{ident}.arn"))
        iam = self._client("iam")
        for ident, body in self.model.of_type("aws_iam_role_policy").items():
            role = self.model.template(body["role"])
            doc = self.model.template(body["policy"])
            user = f"rehearsal-{role}"[:64]
            try:
                iam.create_user(UserName=user)
            except iam.exceptions.EntityAlreadyExistsException:
                for old in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                    iam.delete_access_key(UserName=user, AccessKeyId=old["AccessKeyId"])
            iam.put_user_policy(UserName=user, PolicyName="glacier", PolicyDocument=doc)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            policy = json.loads(doc)
            self.identities[ident] = _Identity(
                role, user, key["AccessKeyId"], key["SecretAccessKey"], len(policy["Statement"]), policy
            )

    # -- packages ----------------------------------------------------------------------
    def _unzip(self, archive: Path) -> Path:
        with self._lock:
            if str(archive) not in self._unpacked:
                target = Path(tempfile.mkdtemp(prefix="pkg-", dir=self.work))
                with zipfile.ZipFile(archive) as zf:
                    zf.extractall(target)
                self._unpacked[str(archive)] = target
            return self._unpacked[str(archive)]

    def _layer(self, arn: str) -> Path:
        for ident, body in self.model.of_type("aws_lambda_layer_version").items():
            if self.model.resolve(f"aws_lambda_layer_version.{ident}.arn") != arn:
                continue
            if "filename" in body:
                return self._unzip(Path(self.model.template(body["filename"])))
            bucket, key = self.model.template(body["s3_bucket"]), self.model.template(body["s3_key"])
            local = self.work / "layers" / ident / Path(key).name
            if not local.is_file():  # Lambda publishes the layer from the artifacts bucket
                local.parent.mkdir(parents=True, exist_ok=True)
                self._client("s3").download_file(bucket, key, str(local))
            return self._unzip(local)
        raise RehearsalError(f"layer {arn} is not one the Terraform publishes: the rehearsal cannot load it")

    def _identity_of(self, role_ref: str, what: str) -> _Identity:
        m = re.fullmatch(r"\$\{aws_iam_role\.([a-z0-9_]+)\.(arn|name)\}", role_ref)
        ident = m.group(1) if m else None
        if ident not in self.identities:
            raise RehearsalError(f"{what} runs as {role_ref}, which has no generated inline policy")
        return self.identities[ident]  # type: ignore[index]

    def _runtime_env(self, identity: _Identity) -> dict[str, str]:
        env = {k: self.env[k] for k in _ENDPOINT_VARS if self.env.get(k)}
        env.update(
            AWS_REGION=self.region,
            AWS_DEFAULT_REGION=self.region,
            AWS_ACCESS_KEY_ID=identity.key,
            AWS_SECRET_ACCESS_KEY=identity.secret,
            GLACIER_PROGRESS="0",
        )
        return env

    # -- Step Functions task integrations -----------------------------------------------
    def invoke(self, resource: str, params: Any, state: str) -> Any:
        if resource == "arn:aws:states:::lambda:invoke":
            return self._lambda(params, state)
        if resource == "arn:aws:states:::aws-sdk:ssm:sendCommand":
            return self._send_command(params, state)
        if resource == "arn:aws:states:::aws-sdk:ssm:getCommandInvocation":
            command = self._commands.get(params["CommandId"])
            if command is None:
                raise TaskFailure("Ssm.InvocationDoesNotExistException", params["CommandId"])
            return command
        raise TaskFailure(
            "States.Runtime",
            f"state {state} calls {resource}, which the rehearsal does not run (EMR, Databricks)",
        )

    def _lambda(self, params: dict[str, Any], state: str) -> Any:
        arn = params["FunctionName"]
        found = [
            (ident, body)
            for ident, body in self.model.of_type("aws_lambda_function").items()
            if self.model.resolve(f"aws_lambda_function.{ident}.arn") == arn
        ]
        if not found:
            raise TaskFailure("Lambda.ResourceNotFoundException", f"function {arn} is not in the Terraform")
        ident, body = found[0]
        identity = self._identity_of(body["role"], f"aws_lambda_function.{ident}")
        code = self._unzip(Path(self.model.template(body["filename"])))
        raw = body.get("layers", [])
        layers = self.model.references(raw) if isinstance(raw, str) else self.model._value(raw)
        paths = [code] + [self._layer(a) / "python" for a in layers]
        env = self._runtime_env(identity)
        for block in body.get("environment", []):
            env.update({k: str(self.model.template(v)) for k, v in block.get("variables", {}).items()})
        name = self.model.resolve(f"aws_lambda_function.{ident}.function_name")
        env.update(
            AWS_LAMBDA_FUNCTION_NAME=name,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(body.get("memory_size", 128)),
            AWS_EXECUTION_ENV=f"AWS_Lambda_{body.get('runtime', 'python3.11')}",
            LAMBDA_TASK_ROOT=str(code),
        )
        handler = body.get("handler", "glacier_handler.handler")
        outcome = run_function(
            paths, handler, params["Payload"], env, cwd=code, timeout=float(body.get("timeout", 3))
        )
        self._record(state, params["Payload"], f"Lambda {name}", identity, outcome)
        return {"StatusCode": 200, "Payload": outcome.result, "ExecutedVersion": "$LATEST"}

    def _send_command(self, params: dict[str, Any], state: str) -> Any:
        (instance_id,) = params["InstanceIds"]
        found = [
            (ident, body)
            for ident, body in self.model.of_type("aws_instance").items()
            if self.model.resolve(f"aws_instance.{ident}.id") == instance_id
        ]
        if not found:
            raise TaskFailure("Ssm.InvalidInstanceId", instance_id)
        ident, body = found[0]
        profile = re.fullmatch(
            r"\$\{aws_iam_instance_profile\.([a-z0-9_]+)\.name\}", body["iam_instance_profile"]
        )
        assert profile is not None
        role = self.model.resources["aws_iam_instance_profile", profile.group(1)]["role"]
        identity = self._identity_of(role, f"aws_instance.{ident}")
        root = Path(tempfile.mkdtemp(prefix=f"vm-{ident}-", dir=self.work))
        outcome = self._shell(" && ".join(params["Parameters"]["commands"]), root, identity, body)
        command_id = f"cmd-{len(self._commands) + 1:04d}"
        self._commands[command_id] = {
            "CommandId": command_id,
            "Status": "Success" if outcome.ok else "Failed",
            "StandardOutputContent": outcome.stdout[-2000:],
        }
        self._record(state, outcome.result, f"EC2 {instance_id}", identity, outcome)
        return {"Command": {"CommandId": command_id}}

    def _shell(self, script: str, root: Path, identity: _Identity, body: dict[str, Any]) -> Outcome:
        """The instance's run command: ``aws s3 cp``, ``python3 -m zipfile -e``, ``mkdir``,
        and ``[VAR=...] python3 SCRIPT ARGS``; absolute paths live under ``root``."""

        def here(path: str) -> Path:
            return root / path.lstrip("/") if path.startswith("/") else root / path

        env = self._runtime_env(identity)
        for step in (s.strip() for s in script.split("&&")):
            words = shlex.split(step)
            assigns = {}
            while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                k, _, v = words.pop(0).partition("=")
                assigns[k] = v
            if words[:2] == ["mkdir", "-p"]:
                for w in words[2:]:
                    here(w).mkdir(parents=True, exist_ok=True)
            elif words[:3] == ["aws", "s3", "cp"]:
                m = re.fullmatch(r"s3://([^/]+)/(.+)", words[3])
                assert m is not None
                here(words[4]).parent.mkdir(parents=True, exist_ok=True)
                try:
                    self._client("s3", identity).download_file(m.group(1), m.group(2), str(here(words[4])))
                except Exception as exc:
                    return Outcome(error_type="AccessDenied" if "403" in str(exc) else type(exc).__name__,
                                   message=f"aws s3 cp {words[3]}: {exc}")  # fmt: skip
            elif words[:2] in (["python3", "-m"], ["python3.11", "-m"]) and words[2:4] == ["zipfile", "-e"]:
                with zipfile.ZipFile(here(words[4])) as zf:
                    zf.extractall(here(words[5]))
            elif words and re.fullmatch(r"python3(\.\d+)?", words[0]) and words[1].endswith(".py"):
                paths = [here(p) for p in assigns.pop("PYTHONPATH", "").split(":") if p]
                env.update(assigns)
                script_path = here(words[1])
                return run_script(
                    [script_path.parent, *paths], script_path, words[2:], env, cwd=root, timeout=3600.0
                )
            else:
                raise RehearsalError(f"the rehearsal does not understand the instance command {step!r}")
        return Outcome(error_type="States.Runtime", message="the command runs no task")

    def _record(self, state: str, payload: Any, where: str, identity: _Identity, outcome: Outcome) -> None:
        task = payload.get("task", state) if isinstance(payload, dict) else state
        with self._lock:
            result = self.results.setdefault(state, TaskResult(task=task, where=where))
            result.attempts += 1
            result.identity = f"{identity.role} ({identity.statements} statements)"
            if outcome.ok:
                result.status, result.error = "succeeded", None
                if isinstance(outcome.result, dict) and "rows" in outcome.result:
                    result.rows = outcome.result["rows"]
            else:
                result.status = "failed"
                result.error = f"{outcome.error_type}: {outcome.message}".strip()
                denied = _denied_action(outcome.message)
                if denied:
                    action, _, resource = denied.partition(" on ")
                    verdict = (
                        "is denied although the generated policy seems to grant it"
                        if identity.grants(action, resource)
                        else "is not granted by the generated policy"
                    )
                    result.error = (
                        f"AccessDenied: {denied} {verdict} of role {identity.role} "
                        f"({outcome.error_type}: {outcome.message.split(';')[0]})"
                    )
        if not outcome.ok:
            raise TaskFailure(outcome.error_type or "States.TaskFailed", outcome.message)

    # -- the orchestrator --------------------------------------------------------------
    def definition(self, ident: str, fallback: Any) -> tuple[dict[str, Any], str]:
        rendered = self.model.evaluate("aws_sfn_state_machine", ident, "definition")
        if rendered is not None:
            return rendered, "terraform"
        return self.model.resolve_tree(fallback), "glacier's model"

    def execute(self, definition: dict[str, Any], run_id: str) -> Execution:
        execution = Execution(definition, self.invoke, name=run_id)
        execution.run({})
        return execution


_VERBS = {
    "write": "s3:PutObject",
    "read": "s3:GetObject",
    "list": "s3:ListBucket",
    "delete": "s3:DeleteObject",
}


def _denied_action(message: str) -> str | None:
    """``s3:PutObject on arn:aws:s3:::b/k`` from a Glacier storage error that says access denied."""
    if "access denied" not in message.lower() and "accessdenied" not in message.lower():
        return None
    m = re.search(r"cannot (write|read|list|delete) s3://([^\s:]+)", message)
    if not m:
        return "an S3 action"
    bucket, _, key = m.group(2).partition("/")
    resource = f"arn:aws:s3:::{bucket}" if m.group(1) == "list" else f"arn:aws:s3:::{bucket}/{key}"
    return f"{_VERBS[m.group(1)]} on {resource}"


def endpoint_env() -> dict[str, str]:
    """The variables of this process that name AWS storage and credentials."""
    keys = (*_ENDPOINT_VARS, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION", "AWS_REGION")  # fmt: skip
    return {k: os.environ[k] for k in keys if os.environ.get(k)}
