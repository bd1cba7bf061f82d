"""What a function's cold start runs in when deployed, rebuilt for a local interpreter: Lambda's environment
variables with the function's own from template.yaml, its code and the layer on PYTHONPATH, tracing on, and only
the packages the deployment has (the layer's requirements and the runtime's boto3, not this venv's dev tools)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.stack import ACCOUNT, LAYER, REGION
from local.template import FunctionSpec, functions, parameter_defaults, resolve

BARE = Path(__file__).resolve().parent / "bare"  # the bare handler: scripts/bench/bare/app.py
STACK_NAME = "agent-task-board"
XRAY_DAEMON = "169.254.79.129:2000"  # what Lambda sets with Tracing: Active (UDP; nothing is sent at import)
# What SAM installs into the layer, plus what the Lambda runtime brings itself (boto3 is not bundled).
LAYER_REQUIREMENTS = LAYER / "requirements.txt"
RUNTIME_PACKAGES = ("boto3",)


@dataclass(frozen=True)
class ColdFunction:
    name: str  # logical id
    kind: str  # HTTP, authorizer, stream, queue, timer
    target: float  # the largest ratio to the bare handler the issue accepts
    module: str  # the handler's module, imported from the function's code directory
    code: Path
    environment: dict[str, str]

    def matches(self, wanted: str) -> bool:
        """`create_task`, `CreateTask` and `CreateTaskFunction` all name CreateTaskFunction."""
        wanted = wanted.lower().replace("_", "")
        return wanted in (
            self.code.name.replace("_", ""),
            self.name.lower(),
            self.name.lower().removesuffix("function"),
        )

    def bare(self) -> ColdFunction:
        """The bare handler in this function's environment (its own code directory and PYTHONPATH)."""
        return ColdFunction("(bare)", self.kind, self.target, "app", BARE, self.environment | code_paths(BARE, "app"))


class _Names(dict[str, str]):
    """Deployed-looking values for the template's !Ref and !GetAtt of resources, by their type."""

    def __init__(self, template: dict[str, Any]) -> None:
        stage = parameter_defaults(template).get("Stage", "dev")
        super().__init__(parameter_defaults(template))
        self.types = {name: resource["Type"] for name, resource in template["Resources"].items()}
        self.prefix = f"{STACK_NAME}-{stage}"

    def __missing__(self, key: str) -> str:
        name, _, attribute = key.partition(".")
        kind = self.types.get(name, "")
        physical = f"{self.prefix}-{name}"
        if kind == "AWS::SQS::Queue" and not attribute:
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}"
        if kind.endswith("::StateMachine"):
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{physical}"
        if attribute == "Arn":
            service = kind.split("::")[1].lower() if "::" in kind else "unknown"
            return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{physical}"
        return physical


def code_paths(code: Path, module: str) -> dict[str, str]:
    return {
        "LAMBDA_TASK_ROOT": str(code),
        "PYTHONPATH": os.pathsep.join((str(code), str(LAYER))),
        "_HANDLER": f"{module}.handler",
    }


def lambda_environment(template: dict[str, Any], spec: FunctionSpec, names: dict[str, str]) -> dict[str, str]:
    """The environment Lambda starts `spec`'s runtime with: no POWERTOOLS_TRACE_DISABLED, so Powertools' Tracer is
    on (LAMBDA_TASK_ROOT set), and no local settings (local/stack.py's LOCAL_ENVIRONMENT) either."""
    globals_ = template.get("Globals", {}).get("Function", {})
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"  # the interpreter measured, not Lambda's
    module = spec.handler.rsplit(".", 1)[0]
    function_name = f"{STACK_NAME}-{names['Stage']}-{spec.logical_id}"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(globals_.get("MemorySize", 128)),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]bench",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": XRAY_DAEMON,
        "_AWS_XRAY_DAEMON_ADDRESS": XRAY_DAEMON.split(":")[0],
        "_AWS_XRAY_DAEMON_PORT": XRAY_DAEMON.split(":")[1],
        **code_paths(spec.code_uri, module),
        **{key: resolve(value, names) for key, value in spec.environment.items()},
    }


def _referenced(resource: dict[str, Any], logical_id: str) -> bool:
    return f'"{logical_id}"' in json.dumps(resource.get("Properties", {}))


def function_kind(template: dict[str, Any], spec: FunctionSpec) -> str:
    events = {event["Type"] for event in spec.events.values()}
    if "Api" in events:
        return "HTTP"
    resources = template["Resources"].values()
    apis = [r for r in resources if r["Type"] == "AWS::Serverless::Api"]
    if any(_referenced({"Properties": api["Properties"].get("Auth", {})}, spec.logical_id) for api in apis):
        return "authorizer"
    if "DynamoDB" in events:
        return "stream"
    if "SQS" in events:
        return "queue"
    if any(r["Type"].endswith("::StateMachine") and _referenced(r, spec.logical_id) for r in resources):
        return "timer"
    return "other"


TARGETS = {"authorizer": 1.1}  # the issue's: the authorizer runs before every request; everything else 1.3x
DEFAULT_TARGET = 1.3


def cold_functions(template: dict[str, Any]) -> list[ColdFunction]:
    names = _Names(template)
    found = []
    for spec in functions(template).values():
        kind = function_kind(template, spec)
        found.append(
            ColdFunction(
                name=spec.logical_id,
                kind=kind,
                target=TARGETS.get(kind, DEFAULT_TARGET),
                module=spec.handler.rsplit(".", 1)[0],
                code=spec.code_uri,
                environment=lambda_environment(template, spec, names),
            )
        )
    return found


# ---- the deployed packages -------------------------------------------------------------------------------------


def _top_level(distribution: importlib.metadata.Distribution) -> set[str]:
    """The importable top-level names a distribution installs."""
    listed = distribution.read_text("top_level.txt")
    if listed:
        return {line.strip() for line in listed.splitlines() if line.strip()}
    names = set()
    for file in distribution.files or []:
        first = file.parts[0]
        if len(file.parts) == 1:
            if first.endswith(".py"):
                names.add(first.removesuffix(".py"))
            elif first.endswith((".so", ".pyd")):
                names.add(first.split(".")[0])
        elif not first.endswith((".dist-info", ".egg-info", ".data")) and first not in ("..", "__pycache__", "bin"):
            names.add(first)
    return names


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution `requirements` install, with their extras, on this interpreter (markers evaluated)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: dict[str, set[str]] = {}
    pending = [(Requirement(text), {""}) for text in requirements]
    while pending:
        requirement, parent_extras = pending.pop()
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": extra}) for extra in parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras) | {""}
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        pending += [(Requirement(text), seen[name]) for text in requires]
    return set(seen)


def undeployed_packages() -> list[str]:
    """Top-level packages installed here that a deployed function would not find: this venv's dev tools (moto,
    pytest, requests, ...). X-Ray's patch_all imports some of them when they are there; the probe hides them."""
    from packaging.utils import canonicalize_name

    lines = [line.split("#")[0].strip() for line in LAYER_REQUIREMENTS.read_text().splitlines()]
    deployed = _closure([line for line in lines if line] + list(RUNTIME_PACKAGES))
    allowed: set[str] = set()
    installed: set[str] = set()
    for distribution in importlib.metadata.distributions():
        names = _top_level(distribution)
        installed |= names
        if canonicalize_name(distribution.metadata["Name"] or "") in deployed:
            allowed |= names
    hidden = installed - allowed - set(sys.stdlib_module_names) - {"taskboard", "functions", "scripts", "local"}
    return sorted(name for name in hidden if name.isidentifier())
