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
class FunctionRoute:
    logical_id: str
    method: str
    path: str  # as API Gateway writes it: /tasks/{task_id}
    code_uri: Path
    handler: str  # module.function
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def segments(self) -> list[str]:
        return [part for part in self.path.split("/") if part]


def function_routes(template: dict[str, Any]) -> list[FunctionRoute]:
    """One route per Api event of every AWS::Serverless::Function, with its handler and environment."""
    globals_ = template.get("Globals", {}).get("Function", {})
    shared_env = globals_.get("Environment", {}).get("Variables", {})
    routes = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = {**shared_env, **props.get("Environment", {}).get("Variables", {})}
        for event in props.get("Events", {}).values():
            if event["Type"] != "Api":
                continue
            routes.append(
                FunctionRoute(
                    logical_id=logical_id,
                    method=event["Properties"]["Method"].upper(),
                    path=event["Properties"]["Path"],
                    code_uri=ROOT / props["CodeUri"],
                    handler=props.get("Handler", globals_.get("Handler")),
                    timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                    environment=env,
                )
            )
    return routes


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
        found[logical_id] = args
    return found


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}


def resolve(value: Any, names: dict[str, str]) -> str:
    """A template value as a plain string: !Ref of a resource or parameter becomes its local name or default."""
    if isinstance(value, dict) and "Ref" in value:
        return names[value["Ref"]]
    if isinstance(value, dict):
        raise ValueError(f"the local stack cannot resolve {value}")
    return str(value)
