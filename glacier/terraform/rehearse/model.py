"""The generated Terraform read back, with stand-in values for what only ``apply`` knows.

``TerraformModel`` parses ``main.tf`` and ``variables.tf`` (python-hcl2) and resolves
references the way a fresh ``apply`` in a stand-in account would: names from the resources'
own arguments and the variables' defaults, ARNs and ids derived from them (account
``123456789012``). State machine definitions are rendered by Terraform itself when a
``terraform`` binary is on PATH (a provider-free copy of the expression evaluates offline),
and by the same substitution in Python otherwise; IAM policy documents (a provider data
source, which no offline evaluation renders) are translated from their HCL blocks.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from glacier.errors import GlacierError

__all__ = ["ACCOUNT", "TerraformModel", "RehearsalError", "REFERENCE"]

ACCOUNT = "123456789012"
#: A Terraform reference Glacier generates: resources, data sources, variables, path.module.
REFERENCE = re.compile(
    r"(?<![\w.\-/])(?:data\.[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+"
    r"|var\.[a-z0-9_]+(?:\[\d+\])?"
    r"|(?:aws|google|azurerm|databricks|archive)_[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+"
    r"|path\.module)"
)
_STANDIN_VARS = {
    "subnet_ids": ["subnet-0rehearsal"],
    "security_group_ids": ["sg-0rehearsal"],
    "vpc_id": "vpc-0rehearsal",
    "databricks_host": "https://databricks.rehearsal.invalid",
    "emr_tls_certificates_zip": "s3://rehearsal/certs.zip",
}


class RehearsalError(GlacierError):
    """The generated deployment cannot be rehearsed (missing file, unsupported construct)."""


def _unquote(value: Any) -> Any:
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _blocks(entries: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        for type_, named in entry.items():
            for name, body in named.items():
                out[type_, name] = body
    return out


class TerraformModel:
    """The Terraform folder ``out`` as data, with stand-ins for computed values."""

    def __init__(self, out: str | Path, *, region: str | None = None) -> None:
        import hcl2

        self.out = Path(out)
        try:
            main = _unquote(hcl2.loads((self.out / "main.tf").read_text(encoding="utf-8")))
            variables = _unquote(hcl2.loads((self.out / "variables.tf").read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise RehearsalError(f"{exc.filename} is missing: export the Terraform first") from None
        self.resources = _blocks(main.get("resource", []))
        self.data = _blocks(main.get("data", []))
        self.variables: dict[str, Any] = {}
        for entry in variables.get("variable", []):
            for name, body in entry.items():
                self.variables[name] = body.get("default", _STANDIN_VARS.get(name, f"rehearsal-{name}"))
        if region:
            self.variables["region"] = region

    # -- references --------------------------------------------------------------------
    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {name: body for (t, name), body in self.resources.items() if t == type_}

    def resolve(self, ref: str) -> Any:
        """The stand-in value of one reference (``aws_s3_bucket.x.arn``, ``var.region`` ...)."""
        parts = ref.split(".")
        if parts[0] == "var":
            m = re.fullmatch(r"([a-z0-9_]+)(?:\[(\d+)\])?", parts[1])
            assert m is not None
            value = self.variables[m.group(1)]
            return value[int(m.group(2))] if m.group(2) else value
        if parts[0] == "path":
            return str(self.out)
        if parts[0] == "data":
            return self._data(parts[1], parts[2], parts[3])
        type_, name, attr = parts
        body = self.resources.get((type_, name))
        if body is None:
            raise RehearsalError(f"main.tf refers to {type_}.{name}, which it does not declare")
        if attr in body and isinstance(body[attr], str):
            return self.template(body[attr])
        return self._computed(type_, name, attr, body)

    def _data(self, type_: str, name: str, attr: str) -> Any:
        if type_ == "aws_partition":
            return "aws"
        if type_ == "aws_caller_identity":
            return ACCOUNT
        if type_ == "aws_iam_policy_document" and attr == "json":
            return json.dumps(self.policy(name))
        body = self.data.get((type_, name), {})
        if type_ == "archive_file" and attr == "output_path":
            return self.template(body["output_path"])
        return f"{type_}-{name}-{attr}"

    def _computed(self, type_: str, name: str, attr: str, body: dict[str, Any]) -> Any:
        region, acct = self.variables.get("region", "us-east-1"), ACCOUNT
        named = {
            "aws_s3_bucket": "bucket",
            "aws_lambda_function": "function_name",
            "aws_cloudwatch_log_group": "name",
            "aws_sqs_queue": "name",
            "aws_iam_role": "name",
            "aws_sfn_state_machine": "name",
            "aws_emr_cluster": "name",
            "aws_lambda_layer_version": "layer_name",
            "aws_cloudwatch_event_connection": "name",
            "aws_iam_instance_profile": "name",
        }
        label = self.template(body[named[type_]]) if type_ in named and named[type_] in body else name
        if type_ == "aws_s3_bucket":
            return f"arn:aws:s3:::{label}" if attr == "arn" else label
        arns = {
            "aws_lambda_function": f"arn:aws:lambda:{region}:{acct}:function:{label}",
            "aws_cloudwatch_log_group": f"arn:aws:logs:{region}:{acct}:log-group:{label}",
            "aws_sqs_queue": f"arn:aws:sqs:{region}:{acct}:{label}",
            "aws_iam_role": f"arn:aws:iam::{acct}:role/{label}",
            "aws_kms_key": f"arn:aws:kms:{region}:{acct}:key/00000000-rehearsal",
            "aws_sfn_state_machine": f"arn:aws:states:{region}:{acct}:stateMachine:{label}",
            "aws_lambda_layer_version": f"arn:aws:lambda:{region}:{acct}:layer:{label}:1",
            "aws_emr_cluster": f"arn:aws:elasticmapreduce:{region}:{acct}:cluster/j-{name.upper()}",
            "aws_cloudwatch_event_connection": f"arn:aws:events:{region}:{acct}:connection/{label}/0000",
            "aws_iam_instance_profile": f"arn:aws:iam::{acct}:instance-profile/{label}",
        }
        if attr == "secret_arn" and type_ == "aws_cloudwatch_event_connection":
            return f"arn:aws:secretsmanager:{region}:{acct}:secret:events!connection/{label}-0000"
        if attr == "arn" and type_ in arns:
            return arns[type_]
        digest = hashlib.sha256(f"{type_}.{name}".encode()).hexdigest()[:17]
        if type_ == "aws_instance" and attr == "id":
            return f"i-{digest}"
        if type_ == "databricks_job" and attr == "id":
            return str(int(digest[:8], 16))
        if attr in ("id", "name") and type_ in named:
            return label
        return f"{type_}.{name}.{attr}"

    def references(self, text: str) -> list[Any]:
        """Every reference in an expression (``concat([a.b.arn], var.x)``), resolved, lists flattened."""
        out: list[Any] = []
        for m in REFERENCE.finditer(text):
            value = self.resolve(m.group(0))
            out.extend(value if isinstance(value, list) else [value])
        return out

    def template(self, text: str) -> Any:
        """A string with ``${...}`` interpolations resolved (a lone ``${ref}`` keeps its type)."""
        whole = re.fullmatch(r"\$\{([^{}]+)\}", text)
        if whole and REFERENCE.fullmatch(whole.group(1).strip()):
            return self.resolve(whole.group(1).strip())

        def one(m: re.Match[str]) -> str:
            inner = m.group(1).strip()
            if not REFERENCE.fullmatch(inner):  # the orchestrator's own expression (Workflows, Logic Apps)
                return m.group(0)
            return str(self.resolve(inner))

        return re.sub(r"\$\{([^{}]+)\}", one, text)

    # -- policies ----------------------------------------------------------------------
    def policy(self, name: str) -> dict[str, Any]:
        """The JSON policy an ``aws_iam_policy_document`` data source renders."""
        body = self.data.get(("aws_iam_policy_document", name))
        if body is None:
            raise RehearsalError(f"main.tf has no aws_iam_policy_document.{name}")
        statements = []
        for st in body.get("statement", []):
            out: dict[str, Any] = {"Effect": st.get("effect", "Allow")}
            if "sid" in st:
                out["Sid"] = st["sid"]
            out["Action"] = [self._value(a) for a in st.get("actions", [])]
            if "resources" in st:
                resources = self._value(st["resources"])
                out["Resource"] = resources if isinstance(resources, list) else [resources]
            for cond in st.get("condition", []):
                values = self._value(cond["values"])
                out.setdefault("Condition", {}).setdefault(cond["test"], {})[cond["variable"]] = values
            for principal in st.get("principals", []):
                out.setdefault("Principal", {})[principal["type"]] = self._value(principal["identifiers"])
            statements.append(out)
        return {"Version": "2012-10-17", "Statement": statements}

    def _value(self, value: Any) -> Any:
        if isinstance(value, list):
            flat: list[Any] = []
            for v in value:
                resolved = self._value(v)
                flat.extend(resolved if isinstance(resolved, list) else [resolved])
            return flat
        return self.template(value) if isinstance(value, str) else value

    # -- definitions -------------------------------------------------------------------
    def expression(self, type_: str, name: str, attr: str) -> str:
        """The HCL expression of an attribute (``jsonencode({...})``) with stand-ins in place
        of every reference: a provider-free expression Terraform evaluates offline."""
        raw = self.resources[type_, name][attr]
        if not (raw.startswith("${") and raw.endswith("}")):
            raise RehearsalError(f"{type_}.{name}.{attr} is not an expression")
        expr = raw[2:-1]
        return REFERENCE.sub(lambda m: json.dumps(self.resolve(m.group(0))), expr)

    def evaluate(self, type_: str, name: str, attr: str) -> Any | None:
        """The value of a ``jsonencode(...)`` attribute as Terraform renders it, decoded;
        ``None`` when no ``terraform`` binary is on PATH."""
        if not shutil.which("terraform"):
            return None
        return json.loads(_terraform_eval(self.expression(type_, name, attr)))

    def resolve_tree(self, value: Any) -> Any:
        """Glacier's own model of a rendered value: strings' interpolations and raw
        expressions (``tonumber(ref)``) resolved with the same stand-ins."""
        from glacier.terraform.hcl import Raw

        if isinstance(value, dict):
            return {k: self.resolve_tree(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.resolve_tree(v) for v in value]
        if isinstance(value, Raw):
            m = re.fullmatch(r"tonumber\((.+)\)", str(value))
            return int(self.resolve(m.group(1))) if m else self.resolve(str(value))
        if isinstance(value, str):
            return self.template(value)
        return value


def _terraform_eval(expr: str) -> str:
    """``terraform apply`` of a folder whose only blocks are ``locals`` and ``output``."""
    with tempfile.TemporaryDirectory(prefix="glacier-tf-") as tmp:
        Path(tmp, "main.tf").write_text(
            f'locals {{\n  value = {expr}\n}}\n\noutput "value" {{\n  value = local.value\n}}\n',
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": "/dev/null",
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        }
        for args in (
            ["init", "-input=false", "-no-color"],
            ["apply", "-auto-approve", "-input=false", "-no-color"],
        ):
            proc = subprocess.run(
                ["terraform", *args], cwd=tmp, env=env, capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                raise RehearsalError(
                    f"terraform {args[0]} of the definition failed: {proc.stderr.strip()[-800:]}"
                )
        proc = subprocess.run(
            ["terraform", "output", "-raw", "value"],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RehearsalError(f"terraform output failed: {proc.stderr.strip()[-800:]}")
        return proc.stdout
