"""Reading template.yaml: its CloudFormation tags, its API routes, its tables. Nothing here is listed twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that reads !Ref, !Sub, !GetAtt ... as their long forms ({"Ref": ...})."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str  # module.function
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionRoute(FunctionSpec):
    method: str = "GET"
    path: str = "/"  # as API Gateway writes it: /tasks/{task_id}

    @property
    def segments(self) -> list[str]:
        return [part for part in self.path.split("/") if part]


def functions(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function, with Globals applied, by logical id."""
    globals_ = template.get("Globals", {}).get("Function", {})
    shared_env = globals_.get("Environment", {}).get("Variables", {})
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        found[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=ROOT / props["CodeUri"],
            handler=props.get("Handler", globals_.get("Handler")),
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
            environment={**shared_env, **props.get("Environment", {}).get("Variables", {})},
            events=props.get("Events", {}),
        )
    return found


def function_routes(template: dict[str, Any]) -> list[FunctionRoute]:
    """One route per Api event of every function."""
    return [
        FunctionRoute(**vars(spec), method=event["Properties"]["Method"].upper(), path=event["Properties"]["Path"])
        for spec in functions(template).values()
        for event in spec.events.values()
        if event["Type"] == "Api"
    ]


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The Properties of every resource of one type, by logical id."""
    return {name: r.get("Properties", {}) for name, r in template["Resources"].items() if r["Type"] == kind}


def tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """create_table arguments of every AWS::DynamoDB::Table, by logical id (the name is the logical id)."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        args = {
            "TableName": logical_id,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        found[logical_id] = args
    return found


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}


def resolve(value: Any, names: dict[str, str]) -> str:
    """A template value as a plain string: !Ref of a resource or parameter becomes its local name (or the
    parameter's default), !GetAtt X.Attr the local value recorded as names["X.Attr"]."""
    if isinstance(value, dict) and "Ref" in value:
        return names[value["Ref"]]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return names[".".join(value["Fn::GetAtt"])]
    if isinstance(value, dict):
        raise ValueError(f"the local stack cannot resolve {value}")
    return str(value)
