"""template.yaml is valid, every function resolves to code, and the code agrees with the template."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.openapi import OPENAPI_FILE, render
from local.stack import Stack
from local.template import ROOT, function_routes, load_template

TEMPLATE = load_template()
ROUTES = function_routes(TEMPLATE)
FUNCTIONS = {name: r for name, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "template.yaml"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_function_is_one_endpoint_with_code_behind_it() -> None:
    assert len(FUNCTIONS) == len(ROUTES) == 14
    loader = Stack.__new__(Stack)
    loader._modules = {}
    for route in ROUTES:
        module = loader.module(route)
        assert callable(getattr(module, route.handler.rsplit(".", 1)[1])), route.logical_id
        # the function's router serves exactly the template's route (API Gateway {p} is Powertools <p>)
        ((rule, methods, *_),) = module.router._routes.keys()
        assert re.sub(r"<(\w+)>", r"{\1}", rule) == route.path and methods == (route.method,), route.logical_id


def test_runtime_is_a_current_python_and_functions_use_the_shared_layer() -> None:
    runtime = TEMPLATE["Parameters"]["PythonRuntime"]["Default"]
    assert runtime in ("python3.12", "python3.13")
    assert TEMPLATE["Globals"]["Function"]["Layers"] == [{"Ref": "CommonLayer"}]
    assert (ROOT / "layers/common/requirements.txt").exists()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_policies_are_least_privilege(name: str) -> None:
    statements = [s for policy in FUNCTIONS[name]["Properties"]["Policies"] for s in policy["Statement"]]
    actions = {action for statement in statements for action in statement["Action"]}
    assert actions, name
    assert all(action.startswith("dynamodb:") and "*" not in action for action in actions), actions
    assert "dynamodb:Scan" not in actions
    assert actions <= {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    }


def test_long_polls_fit_under_api_gateways_29_seconds() -> None:
    for route in ROUTES:
        assert route.timeout <= 28, route.logical_id
    assert int(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["MAX_POLL_SECONDS"]) <= 25


def test_no_scan_in_deployed_code() -> None:
    deployed = [*ROOT.glob("functions/**/*.py"), *ROOT.glob("layers/**/*.py")]
    offenders = [str(p) for p in deployed if re.search(r"\.scan\(|['\"]Scan['\"]", p.read_text())]
    assert deployed and offenders == []


def test_committed_openapi_matches_the_code() -> None:
    assert OPENAPI_FILE.read_text() == render(), "docs/openapi.json is stale: run `make openapi` and commit it"


def test_openapi_documents_every_route_and_the_error_shape() -> None:
    import json

    document = json.loads(render())
    for route in ROUTES:
        assert route.method.lower() in document["paths"][route.path], route.path
    assert set(document["components"]["schemas"]["ErrorResponse"]["required"]) == {"error", "code"}
