"""Real validators on what the AWS export renders: asl-validator (npm) and statelint (PyPI)
on every state machine, parliament (PyPI) on every IAM policy, ``terraform fmt -check``.

State machine definitions are rendered the way Terraform renders them (``terraform`` on
PATH evaluates the provider-free ``jsonencode`` offline) and compared with Glacier's own
model of them; the rehearsal runs the same definitions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from glacier.terraform import export
from glacier.terraform.rehearse.model import TerraformModel
from glacier.terraform.rehearse.run import _renderer_definition
from tests.helpers import ROOT, load_example
from tests.rehearse import pipelines as rehearsed
from tests.terraform import tf_pipelines

ASL_VALIDATOR = ROOT / ".cache" / "asl-validator" / "node_modules" / ".bin" / "asl-validator"
CASES = {
    "example2": lambda: load_example("example2_heterogeneous").ml_pipeline,
    "every_kind": lambda: tf_pipelines.every_kind,
    "fan": lambda: rehearsed.fan,
}
#: (finding, action) pairs of parliament that are reasoned exceptions, not defects:
#: states:InvokeHTTPEndpoint is scoped to the state machine's own ARN, which is what Step
#: Functions checks for HTTP tasks (parliament's data wants "*"; docs/terraform.md).
PARLIAMENT_EXCEPTIONS = {("RESOURCE_MISMATCH", "states:InvokeHTTPEndpoint")}


@pytest.fixture(scope="module", params=sorted(CASES))
def exported(request, tmp_path_factory):
    from glacier.terraform.plan import build_plan

    pipe = CASES[request.param]()
    out = tmp_path_factory.mktemp(request.param)
    export(pipe, out, cloud="aws")
    return build_plan(pipe, cloud="aws"), TerraformModel(out), out


def _definitions(plan, model):
    for flow in plan.flows:
        modelled = model.resolve_tree(_renderer_definition(plan, flow))
        rendered = model.evaluate("aws_sfn_state_machine", flow.ident, "definition")
        yield flow.ident, modelled, rendered


def test_glacier_model_of_the_definition_is_what_terraform_renders(exported):
    plan, model, _ = exported
    if not shutil.which("terraform"):
        pytest.skip("no terraform binary on PATH: the definitions are checked through Glacier's model only")
    for ident, modelled, rendered in _definitions(plan, model):
        assert rendered == modelled, ident


def test_asl_validator_and_statelint_accept_every_state_machine(exported, tmp_path):
    plan, model, _ = exported
    assert ASL_VALIDATOR.exists(), (
        f"asl-validator is not installed at {ASL_VALIDATOR}: run `bash scripts/install.d/15-asl-validator.sh`"
    )
    for ident, modelled, rendered in _definitions(plan, model):
        path = tmp_path / f"{ident}.json"
        path.write_text(json.dumps(rendered or modelled))  # as Terraform renders it
        asl = subprocess.run(
            [str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False
        )
        assert asl.returncode == 0, asl.stdout + asl.stderr
        # statelint wants BackoffRate written as a float, which jsonencode never does (2.0 -> 2,
        # and Step Functions accepts both): it reads Glacier's model, equal to Terraform's as checked above
        path.write_text(json.dumps(modelled))
        lint = subprocess.run(
            [str(Path(ROOT / ".venv" / "bin" / "statelint")), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_parliament_finds_nothing_in_the_task_and_orchestrator_policies(exported):
    from parliament import analyze_policy_string

    plan, model, _ = exported
    checked = 0
    for (type_, name), _body in model.data.items():
        if type_ != "aws_iam_policy_document" or name.endswith("_assume") or name == "kms":
            continue
        policy = model.policy(name)
        findings = analyze_policy_string(json.dumps(policy)).findings
        unexpected = []
        for f in findings:
            details = f.detail if isinstance(f.detail, list) else [f.detail]
            left = [
                d
                for d in details
                if not (isinstance(d, dict) and (f.issue, d.get("action")) in PARLIAMENT_EXCEPTIONS)
            ]
            if left:
                unexpected.append((f.issue, left))
        assert not unexpected, (name, unexpected)
        checked += 1
    assert checked >= 2


def test_terraform_fmt_accepts_the_files(exported):
    _, _, out = exported
    if not shutil.which("terraform"):
        pytest.skip("no terraform binary on PATH")
    done = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
