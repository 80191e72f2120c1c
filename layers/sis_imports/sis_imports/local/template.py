"""Builds moto resources and function environments from template.yaml.

The template is the single source of truth for names and settings: tests, `make demo`
and `sis-imports local up` all create their tables, bucket, topic and queue here.
Only the intrinsic functions this template uses are resolved (!Ref, !GetAtt, !Sub).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def find_template(start: Path | None = None) -> Path:
    """template.yaml in this folder or the nearest parent (a checkout's root)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file():
            return folder / "template.yaml"
    raise FileNotFoundError(
        "template.yaml not found here or in any parent folder; run from the project checkout"
    )


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class Stack:
    """Physical names of the template's resources as created locally."""

    template: dict[str, Any]
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> what !Ref gives
    arns: dict[str, str] = field(default_factory=dict)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.template["Resources"].items() if res["Type"] == kind}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return self._ref(arg)
            if name == "Fn::GetAtt":
                return self.arns[arg[0]]
            if name == "Fn::Sub":
                # ${!Literal} is Sub's escape for a literal ${Literal}.
                return re.sub(
                    r"\$\{(!?)([^}]+)\}",
                    lambda m: "${" + m.group(2) + "}" if m.group(1) else str(self._ref(m.group(2))),
                    arg,
                )
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::StackName": "sis-imports",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", ""))
        raise KeyError(f"template.yaml has no parameter or resource {name}")

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The environment the template gives a function: Globals merged with its own."""
        variables = dict(
            self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        function = self.template["Resources"][logical_id]["Properties"]
        variables.update(function.get("Environment", {}).get("Variables", {}))
        return {key: str(self.resolve(value)) for key, value in variables.items()}

    def function_property(self, logical_id: str, name: str) -> Any:
        own = self.template["Resources"][logical_id]["Properties"].get(name)
        if own is not None:
            return self.resolve(own)
        return self.resolve(self.template.get("Globals", {}).get("Function", {}).get(name))


def create_stack(template: dict[str, Any], session: Any) -> Stack:
    """Creates every table, bucket, topic and queue the template declares, in moto (or anywhere)."""
    stack = Stack(template)
    dynamodb, s3 = session.client("dynamodb"), session.client("s3")
    sns, sqs = session.client("sns"), session.client("sqs")
    for name, resource in stack.resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        kwargs: dict[str, Any] = {
            "TableName": name,
            "BillingMode": props["BillingMode"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        dynamodb.create_table(**kwargs)
        stack.refs[name] = name
        stack.arns[name] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
    for name in stack.resources("AWS::SNS::Topic"):
        arn = sns.create_topic(Name=name)["TopicArn"]
        stack.refs[name], stack.arns[name] = arn, arn
    for name in stack.resources("AWS::SQS::Queue"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        stack.refs[name] = url
        stack.arns[name] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    for name, resource in stack.resources("AWS::S3::Bucket").items():
        props = resource["Properties"]
        # Without a BucketName, CloudFormation generates one; any unique lower-case name will do here.
        bucket = (
            stack.resolve(props["BucketName"]) if "BucketName" in props else f"{name.lower()}-{ACCOUNT_ID}"
        )
        s3.create_bucket(Bucket=bucket)
        if props.get("VersioningConfiguration"):
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=props["VersioningConfiguration"])
        stack.refs[name] = bucket
        stack.arns[name] = f"arn:aws:s3:::{bucket}"
    return stack


def upload_trigger(stack: Stack) -> tuple[str, str]:
    """(function logical id, key prefix) of the function the upload bucket triggers."""
    for name, function in stack.resources("AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "S3":
                rules = event["Properties"].get("Filter", {}).get("S3Key", {}).get("Rules", [])
                prefix = next((rule["Value"] for rule in rules if rule["Name"] == "prefix"), "")
                return name, prefix
    raise LookupError("template.yaml has no S3-triggered function")


def queue_triggers(stack: Stack) -> list[tuple[str, str]]:
    """(function logical id, queue logical id) for every SQS event source in the template."""
    triggers = []
    for name, function in stack.resources("AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                triggers.append((name, event["Properties"]["Queue"]["Fn::GetAtt"][0]))
    return triggers


def http_routes(stack: Stack) -> list[tuple[str, str, str]]:
    """(method, path, function logical id) for every HttpApi route in the template."""
    routes = []
    for name, function in stack.resources("AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes.append((props["Method"].upper(), props["Path"], name))
    return routes


def public_routes(stack: Stack) -> set[tuple[str, str]]:
    """(method, path) of the HttpApi routes the template leaves without an authorizer."""
    public = set()
    for function in stack.resources("AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            props = event["Properties"]
            if event["Type"] == "HttpApi" and props.get("Auth", {}).get("Authorizer") == "NONE":
                public.add((props["Method"].upper(), props["Path"]))
    return public


def handler_location(stack: Stack, logical_id: str) -> tuple[str, str]:
    """(CodeUri, 'module.function') of a function, as Lambda would load it."""
    props = stack.template["Resources"][logical_id]["Properties"]
    return props["CodeUri"], props["Handler"]
