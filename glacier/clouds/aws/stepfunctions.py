"""AWS Step Functions: one state machine per pipeline, one state (or poll loop) per task."""

from __future__ import annotations

from typing import Any

from glacier.clouds.aws.iam import attach, role, statement, tf_json
from glacier.config.execution import DatabricksConfig, EC2Config, EMRConfig, LambdaConfig
from glacier.config.storage import S3Config
from glacier.terraform.base import Renderer, prefixed, ref
from glacier.terraform.hcl import Attr, Block, Call, Comment, Raw, template
from glacier.terraform.plan import Flow, Step

__all__ = ["StepFunctions"]

#: Where deployed tasks pass their outputs to each other.
STAGING = "s3://${aws_s3_bucket.glacier_artifacts.bucket}/runs"


class StepFunctions(Renderer[S3Config, LambdaConfig, EC2Config, EMRConfig]):
    """The orchestrator half of the AWS renderer."""

    def step_states(self, flow: Flow, step: Step) -> tuple[str, dict[str, Any], str]:
        """States of one step: (first state name, states, last state name)."""
        ex = self.plan.executor(step.executor)
        payload = {
            "pipeline": flow.pipeline,
            "task": step.node,
            "run.$": "$$.Execution.Name",
            "staging": STAGING,
        }
        retry = (
            [
                {
                    "ErrorEquals": ["States.TaskFailed"],
                    "MaxAttempts": step.retries,
                    "IntervalSeconds": 2,
                    "BackoffRate": 2.0,
                }
            ]
            if step.retries
            else []
        )
        name = step.ident
        if ex.kind in ("local", "serverless"):
            state: dict[str, Any] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": f"${{aws_lambda_function.{ex.ident}.arn}}",
                    "Payload": payload,
                },
                "ResultPath": None,
            }
            if retry:
                state["Retry"] = retry
            return name, {name: state}, name
        args = [flow.pipeline, step.node]
        if isinstance(ex.config, EMRConfig):
            state = {
                "Type": "Task",
                "Resource": "arn:aws:states:::elasticmapreduce:addStep.sync",
                "Parameters": {
                    "ClusterId": f"${{aws_emr_cluster.{ex.ident}.id}}",
                    "Step": {
                        "Name": f"{flow.pipeline}.{step.node}",
                        "ActionOnFailure": "CONTINUE",
                        "HadoopJarStep": {
                            "Jar": "command-runner.jar",
                            "Args.$": (
                                "States.Array('spark-submit', '--py-files', "
                                "'s3://${aws_s3_bucket.glacier_artifacts.bucket}/code/code.zip', "
                                "'s3://${aws_s3_bucket.glacier_artifacts.bucket}/code/glacier_handler.py', "
                                f"'{args[0]}', '{args[1]}', $$.Execution.Name, "
                                "'s3://${aws_s3_bucket.glacier_artifacts.bucket}/runs')"
                            ),
                        },
                    },
                },
                "ResultPath": None,
            }
            if retry:
                state["Retry"] = retry
            return name, {name: state}, name
        if isinstance(ex.config, EC2Config):
            submit = _task(
                name,
                "aws-sdk:ssm:sendCommand",
                {
                    "DocumentName": "AWS-RunShellScript",
                    "InstanceIds": [f"${{aws_instance.{ex.ident}.id}}"],
                    "Parameters": {
                        "commands.$": (
                            "States.Array(States.Format('mkdir -p /opt/glacier/layer && "
                            "aws s3 cp s3://${aws_s3_bucket.glacier_artifacts.bucket}/code/code.zip /tmp/glacier-code.zip && "
                            "aws s3 cp s3://${aws_s3_bucket.glacier_artifacts.bucket}/code/layer.zip /tmp/glacier-layer.zip && "
                            "python3.11 -m zipfile -e /tmp/glacier-code.zip /opt/glacier && "
                            "python3.11 -m zipfile -e /tmp/glacier-layer.zip /opt/glacier/layer && "
                            "GLACIER_CLOUD=aws AWS_DEFAULT_REGION=${var.region} PYTHONPATH=/opt/glacier/layer/python "
                            "python3.11 /opt/glacier/glacier_handler.py "
                            f"{args[0]} {args[1]} {{}} s3://${{aws_s3_bucket.glacier_artifacts.bucket}}/runs', "
                            "$$.Execution.Name))"
                        )
                    },
                },
                {"id.$": "$.Command.CommandId"},
            )
            poll = _task(
                name,
                "aws-sdk:ssm:getCommandInvocation",
                {"CommandId.$": f"$.{name}.id", "InstanceId": f"${{aws_instance.{ex.ident}.id}}"},
                {"id.$": "$.CommandId", "status.$": "$.Status"},
            )
            poll["Retry"] = [
                {
                    "ErrorEquals": ["Ssm.InvocationDoesNotExistException"],
                    "IntervalSeconds": 5,
                    "MaxAttempts": 6,
                }
            ]
            done, failed = ("Success",), ("Cancelled", "TimedOut", "Failed", "Cancelling")
            path = f"$.{name}.status"
        else:  # Databricks through its Jobs API
            endpoint = "${var.databricks_host}/api/2.1/jobs"
            conn = f"${{aws_cloudwatch_event_connection.{ex.ident}.arn}}"
            auth = {"ConnectionArn": conn}
            body = {"job_id": Raw(f"tonumber(databricks_job.{ex.ident}.id)"), "job_parameters": payload}
            submit = _task(
                name,
                "http:invoke",
                {
                    "ApiEndpoint": f"{endpoint}/run-now",
                    "Method": "POST",
                    "Authentication": auth,
                    "RequestBody": body,
                },
                {"id.$": "$.ResponseBody.run_id"},
            )
            query = {"run_id.$": f"States.Format('{{}}', $.{name}.id)"}
            poll = _task(
                name,
                "http:invoke",
                {
                    "ApiEndpoint": f"{endpoint}/runs/get",
                    "Method": "GET",
                    "Authentication": auth,
                    "QueryParameters": query,
                },
                {"id.$": "$.ResponseBody.run_id", "state.$": "$.ResponseBody.state"},
            )
            done, failed = (), ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
            path = f"$.{name}.state.life_cycle_state"
        if retry:
            submit["Retry"] = retry
        submit["Next"] = f"{name}_wait"
        poll["Next"] = f"{name}_check"
        choices: list[dict[str, Any]] = [
            {"Variable": path, "StringEquals": s, "Next": f"{name}_done"} for s in done
        ]
        if not done:  # Databricks: done when TERMINATED with result_state SUCCESS
            choices.append(
                {
                    "And": [
                        {"Variable": path, "StringEquals": "TERMINATED"},
                        {"Variable": f"$.{name}.state.result_state", "StringEquals": "SUCCESS"},
                    ],
                    "Next": f"{name}_done",
                }
            )
        choices += [{"Variable": path, "StringEquals": s, "Next": f"{name}_failed"} for s in failed]
        states = {
            name: submit,
            f"{name}_wait": {"Type": "Wait", "Seconds": 30, "Next": f"{name}_poll"},
            f"{name}_poll": poll,
            f"{name}_check": {
                "Type": "Choice",
                "Choices": choices,
                "Default": f"{name}_wait",
            },
            f"{name}_failed": {"Type": "Fail", "Error": "TaskFailed", "Cause": f"task {step.node} failed"},
            f"{name}_done": {"Type": "Pass", "ResultPath": None},
        }
        return name, states, f"{name}_done"

    def definition(self, flow: Flow) -> dict[str, Any]:
        states: dict[str, Any] = {}
        heads: list[str] = []
        tails: list[str] = []
        for i, level in enumerate(flow.levels()):
            if len(level) == 1:
                first, sts, last = self.step_states(flow, level[0])
                states.update(sts)
            else:
                branches = []
                for step in level:
                    b_first, b_states, b_last = self.step_states(flow, step)
                    b_states[b_last]["End"] = True
                    branches.append({"StartAt": b_first, "States": b_states})
                first = last = f"level_{i + 1}"
                states[first] = {"Type": "Parallel", "Branches": branches, "ResultPath": None}
            heads.append(first)
            tails.append(last)
        for i, tail in enumerate(tails):
            if i + 1 < len(heads):
                states[tail]["Next"] = heads[i + 1]
            else:
                states[tail]["End"] = True
        return {
            "Comment": f"Glacier pipeline {flow.pipeline}"
            + (f": {flow.description.splitlines()[0]}" if flow.description else ""),
            "StartAt": heads[0],
            "States": states,
        }

    def flow(self, flow: Flow) -> list[Block]:
        """The state machine of one pipeline and the role it runs with."""
        n = flow.ident
        role_name = f"{n}_orchestrator"
        account = "${data.aws_partition.current.partition}:{service}:${var.region}:${data.aws_caller_identity.current.account_id}"
        arn = "arn:" + account
        statements = []
        lambdas = self.uses(LambdaConfig, flow)
        if lambdas:
            statements.append(
                statement(
                    "InvokeFunctions", ["lambda:InvokeFunction"],
                    [ref(f"aws_lambda_function.{e}.arn") for e in lambdas],
                )
            )  # fmt: skip
        emrs = self.uses(EMRConfig, flow)
        if emrs:
            statements.append(
                statement(
                    "RunEmrSteps",
                    [
                        "elasticmapreduce:AddJobFlowSteps",
                        "elasticmapreduce:CancelSteps",
                        "elasticmapreduce:DescribeStep",
                    ],
                    [ref(f"aws_emr_cluster.{e}.arn") for e in emrs],
                )
            )
            rule = arn.replace("{service}", "events") + ":rule/StepFunctionsGetEventForEMRAddJobFlowStepsRule"
            statements.append(
                statement(
                    "EmrSyncRules",
                    ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
                    [template(rule)],
                )
            )
        ec2s = self.uses(EC2Config, flow)
        if ec2s:
            ec2 = arn.replace("{service}", "ec2")
            document = (
                "arn:${data.aws_partition.current.partition}:ssm:${var.region}:*:document/AWS-RunShellScript"
            )
            instances = [template(f"{ec2}:instance/${{aws_instance.{e}.id}}") for e in ec2s]
            statements.append(statement("RunCommands", ["ssm:SendCommand"], [template(document), *instances]))
            # GetCommandInvocation has no resource-level permission: IAM only accepts "*"
            statements.append(statement("ReadCommands", ["ssm:GetCommandInvocation"], ["*"]))
        dbx = self.uses(DatabricksConfig, flow)
        if dbx:
            machine = arn.replace("{service}", "states") + ":stateMachine:" + prefixed(n)
            statements.append(statement("CallDatabricks", ["states:InvokeHTTPEndpoint"], [template(machine)]))
            statements.append(
                statement(
                    "UseConnections", ["events:RetrieveConnectionCredentials"],
                    [ref(f"aws_cloudwatch_event_connection.{e}.arn") for e in dbx],
                )
            )  # fmt: skip
            statements.append(
                statement(
                    "ReadConnectionSecrets", ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                    [ref(f"aws_cloudwatch_event_connection.{e}.secret_arn") for e in dbx],
                )
            )  # fmt: skip
        blocks = role(
            role_name,
            self.name(n, "orchestrator"),
            "states.amazonaws.com",
            statements,
            "glacier-orchestration",
        )
        sm = Block("resource", ("aws_sfn_state_machine", n)).add(
            Comment(
                "#checkov:skip=CKV_AWS_285:execution logging needs logs:*Delivery on Resource '*', which Glacier never grants"
            ),
            Attr("name", self.name(n)),
            Attr("role_arn", ref(f"aws_iam_role.{role_name}.arn")),
            Attr("definition", Call("jsonencode", tf_json(self.definition(flow)))),
        )
        sm.block("tracing_configuration").attr("enabled", True)
        return [*blocks, attach(role_name, role_name, "AWSXRayDaemonWriteAccess"), sm]


def _task(name: str, service: str, parameters: dict[str, Any], selector: dict[str, Any]) -> dict[str, Any]:
    """A Task state calling ``arn:aws:states:::<service>``, its selected result kept under ``$.<name>``."""
    return {
        "Type": "Task",
        "Resource": f"arn:aws:states:::{service}",
        "Parameters": parameters,
        "ResultSelector": selector,
        "ResultPath": f"$.{name}",
    }
