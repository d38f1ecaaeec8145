"""IAM pieces of the AWS renderer: policy statements, principals, roles, KMS action lists."""

from __future__ import annotations

from typing import Any

from glacier.terraform.hcl import Attr, Block, Raw, template

__all__ = ["KMS_ADMIN", "KMS_USE", "MANAGED", "statement", "principal", "assume", "role", "attach", "tf_json"]

KMS_ADMIN = [
    "kms:CancelKeyDeletion", "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:DisableKey",
    "kms:EnableKey", "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListResourceTags", "kms:PutKeyPolicy",
    "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
    "kms:UpdateKeyDescription",
]  # fmt: skip
KMS_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
#: AWS-managed policies, by the rest of their ARN.
MANAGED = "arn:${data.aws_partition.current.partition}:iam::aws:policy/"


def statement(sid: str, actions: list[str], resources: list[Any], **extra: Any) -> Block:
    """An ``Allow`` statement; ``extra`` blocks (principals, a condition) or attributes follow."""
    st = Block("statement").add(Attr("sid", sid), Attr("effect", "Allow"), Attr("actions", sorted(actions)))
    st.attr("resources", resources)
    for name, value in extra.items():
        st.add(value) if isinstance(value, Block) else st.attr(name, value)
    return st


def principal(type_: str, ids: list[Any]) -> Block:
    return Block("principals").add(Attr("type", type_), Attr("identifiers", ids))


def assume(ident: str, service: str) -> Block:
    """The trust policy letting ``service`` (``lambda.amazonaws.com`` ...) assume a role."""
    return Block("data", ("aws_iam_policy_document", f"{ident}_assume")).add(
        Block("statement").add(Attr("actions", ["sts:AssumeRole"]), principal("Service", [service]))
    )


def role(ident: str, name: Raw, service: str, statements: list[Block], policy_name: str) -> list[Block]:
    """A role ``service`` assumes, with ``statements`` as its one inline policy."""
    return [
        assume(ident, service),
        Block("data", ("aws_iam_policy_document", ident)).add(*statements),
        Block("resource", ("aws_iam_role", ident)).add(
            Attr("name", name),
            Attr("assume_role_policy", Raw(f"data.aws_iam_policy_document.{ident}_assume.json")),
        ),
        Block("resource", ("aws_iam_role_policy", ident)).add(
            Attr("name", policy_name),
            Attr("role", Raw(f"aws_iam_role.{ident}.id")),
            Attr("policy", Raw(f"data.aws_iam_policy_document.{ident}.json")),
        ),
    ]


def attach(ident: str, role_ident: str, policy: str) -> Block:
    """Attach the AWS-managed ``policy`` to a role."""
    return Block("resource", ("aws_iam_role_policy_attachment", ident)).add(
        Attr("role", Raw(f"aws_iam_role.{role_ident}.name")),
        Attr("policy_arn", template(MANAGED + policy)),
    )


def tf_json(value: Any) -> Any:
    """Python data for ``jsonencode``: strings holding ``${...}`` keep their interpolation."""
    if isinstance(value, dict):
        return {k: tf_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tf_json(v) for v in value]
    if isinstance(value, str) and "${" in value:
        return template(value)
    return value
