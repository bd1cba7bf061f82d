"""Reading template.yaml: its CloudFormation tags, its API routes, its tables. Nothing here is listed twice."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
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
    """The template as data (a fresh copy each call: a caller may change it without touching anyone else's)."""
    return copy.deepcopy(_parsed(path, path.stat().st_mtime_ns))


@lru_cache(maxsize=4)
def _parsed(path: Path, modified: int) -> dict[str, Any]:
    """Parsing is most of a local stack's start-up, so it happens once per version of the file."""
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


def authorizer_of(template: dict[str, Any], route: FunctionRoute) -> str | None:
    """The logical id of the function that authorizes `route` (the API's DefaultAuthorizer unless the route's
    event says `Auth: {Authorizer: NONE}`), or None."""
    event = next(e for e in route.events.values() if e["Type"] == "Api" and e["Properties"]["Path"] == route.path)
    api_id = event["Properties"]["RestApiId"]["Ref"]
    auth = template["Resources"][api_id]["Properties"].get("Auth", {})
    name = event["Properties"].get("Auth", {}).get("Authorizer", auth.get("DefaultAuthorizer"))
    if name is None or name == "NONE":
        return None
    arn = auth["Authorizers"][name]["FunctionArn"]
    return str(arn["Fn::GetAtt"][0])


def gateway_response(template: dict[str, Any], kind: str, request_id: str, message: str = "") -> tuple[int, str]:
    """The status and body API Gateway answers by itself for `kind` (UNAUTHORIZED, ...), from the template."""
    api = next(r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Api")
    responses = api["Properties"].get("GatewayResponses", {})
    default = {"UNAUTHORIZED": "401", "ACCESS_DENIED": "403", "AUTHORIZER_FAILURE": "500"}.get(kind, "400")
    found = responses.get(kind) or responses.get("DEFAULT_5XX" if default.startswith("5") else "DEFAULT_4XX", {})
    body = found.get("ResponseTemplates", {}).get("application/json", "")
    body = body.replace("$context.requestId", request_id).replace("$context.error.messageString", f'"{message}"')
    return int(found.get("StatusCode", default)), body


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
