"""template.yaml is valid, every function resolves to code, and the code agrees with the template."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.openapi import OPENAPI_FILE, generated_files, render
from local.stack import Stack
from local.template import ROOT, function_routes, functions, load_template

TEMPLATE = load_template()
ROUTES = function_routes(TEMPLATE)
FUNCTIONS = {name: r for name, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "template.yaml"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


API_FUNCTIONS = {route.logical_id for route in ROUTES}
TIMER_FUNCTIONS = {"OnTaskChangeFunction", "FireTimersFunction"}
WEBHOOK_FUNCTIONS = {"OnTaskEventFunction", "DeliverWebhookFunction"}
AUTHORIZER_FUNCTIONS = {"AuthorizerFunction"}
STATE_MACHINES = {n: r["Properties"] for n, r in TEMPLATE["Resources"].items() if r["Type"].endswith("StateMachine")}


def test_every_function_resolves_to_code() -> None:
    loader = Stack.__new__(Stack)
    loader._modules = {}
    assert set(FUNCTIONS) == API_FUNCTIONS | TIMER_FUNCTIONS | WEBHOOK_FUNCTIONS | AUTHORIZER_FUNCTIONS
    for spec in functions(TEMPLATE).values():
        module = loader.module(spec)
        assert callable(getattr(module, spec.handler.rsplit(".", 1)[1])), spec.logical_id


def test_every_api_function_is_one_endpoint_whose_router_serves_it() -> None:
    assert len(ROUTES) == len(API_FUNCTIONS) == 61
    loader = Stack.__new__(Stack)
    loader._modules = {}
    for route in ROUTES:
        module = loader.module(route)
        assert callable(getattr(module, route.handler.rsplit(".", 1)[1])), route.logical_id
        # the function's router serves exactly the template's route (API Gateway {p} is the router's <p>)
        (served,) = module.router.routes
        assert re.sub(r"<(\w+)>", r"{\1}", served.path) == route.path, route.logical_id
        assert served.method == route.method, route.logical_id


def test_runtime_is_a_current_python_and_functions_use_the_shared_layer() -> None:
    runtime = TEMPLATE["Parameters"]["PythonRuntime"]["Default"]
    assert runtime in ("python3.12", "python3.13")
    assert TEMPLATE["Globals"]["Function"]["Layers"] == [{"Ref": "CommonLayer"}]
    assert (ROOT / "layers/common/requirements.txt").exists()


ALLOWED_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:UpdateItem",
}
# Which queues a function may send to (and nothing else of SQS, but for the delivery function's own queue).
SENDS_TO = {
    "TestWebhookFunction": [{"Fn::GetAtt": ["WebhookQueue", "Arn"]}],
    "OnTaskEventFunction": [
        {"Fn::GetAtt": ["WebhookQueue", "Arn"]},
        {"Fn::GetAtt": ["WebhookFanoutFailuresQueue", "Arn"]},
    ],
    "DeliverWebhookFunction": [
        {"Fn::GetAtt": ["WebhookQueue", "Arn"]},
        {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]},
    ],
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_policies_are_least_privilege(name: str) -> None:
    statements = [s for policy in FUNCTIONS[name]["Properties"]["Policies"] for s in policy["Statement"]]
    actions = {action for statement in statements for action in statement["Action"]}
    assert actions, name
    assert all("*" not in action for action in actions), actions
    assert "dynamodb:Scan" not in actions
    if name == "OnTaskChangeFunction":  # starts timers and dead-letters what it cannot start; no table access
        assert actions == {"states:StartExecution", "sqs:SendMessage"}
        targets = [
            r for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        ]
        assert targets == [{"Ref": "DueTimersStateMachine"}, {"Fn::GetAtt": ["TimerStartFailuresQueue", "Arn"]}]
    elif name in SENDS_TO:
        sqs = [s for s in statements if any(a.startswith("sqs:") for a in s["Action"])]
        targets = [r for s in sqs for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
        assert sorted(map(str, targets)) == sorted(map(str, SENDS_TO[name]))
        assert actions - ALLOWED_ACTIONS <= {"sqs:SendMessage", "sqs:ChangeMessageVisibility"}
    else:
        assert actions <= ALLOWED_ACTIONS


@pytest.mark.parametrize("name", sorted(STATE_MACHINES))
def test_state_machines_wait_then_invoke_with_retry_and_a_bounded_time(name: str) -> None:
    import json

    props = STATE_MACHINES[name]
    definition_text = (ROOT / props["DefinitionUri"]).read_text()
    definition = json.loads(definition_text)
    placeholders = set(re.findall(r"\$\{(\w+)\}", definition_text))
    assert placeholders == set(props["DefinitionSubstitutions"]), "every ${...} is substituted, nothing else"
    assert definition["TimeoutSeconds"] <= 31 * 86_400
    wait = definition["States"][definition["StartAt"]]
    assert wait["Type"] == "Wait" and wait["TimestampPath"] == "$.fire_at"
    task = definition["States"][wait["Next"]]
    (function_arn,) = props["DefinitionSubstitutions"].values()
    function = FUNCTIONS[function_arn["Fn::GetAtt"][0]]["Properties"]
    # the task gives the firing function its whole timeout (it stops starting new firings 5 s before)
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    assert function["Timeout"] < task["TimeoutSeconds"] <= function["Timeout"] + 60
    retried = {error for rule in task["Retry"] for error in rule["ErrorEquals"]}
    assert {"TimerFiredEarly", "DeadlinesLeft", "Lambda.TooManyRequestsException", "Lambda.ServiceException"} <= retried
    assert all(rule["MaxAttempts"] <= 10 for rule in task["Retry"])
    # least privilege: the machine may invoke only its own firing function
    assert props["Policies"] == [{"LambdaInvokePolicy": {"FunctionName": {"Ref": function_arn["Fn::GetAtt"][0]}}}]


def test_the_timer_stream_is_filtered_and_reports_partial_batch_failures() -> None:
    (event,) = FUNCTIONS["OnTaskChangeFunction"]["Properties"]["Events"].values()
    source = event["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in source["DestinationConfig"]
    (pattern,) = source["FilterCriteria"]["Filters"]
    assert "STATE" in pattern["Pattern"] and '"due_pk": {"S": [{"exists": true}]}' in pattern["Pattern"]


def test_events_reach_webhooks_from_the_stream_through_a_queue_with_a_dead_letter_queue() -> None:
    (event,) = FUNCTIONS["OnTaskEventFunction"]["Properties"]["Events"].values()
    source = event["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in source["DestinationConfig"]
    (pattern,) = source["FilterCriteria"]["Filters"]
    assert "EVENT#" in pattern["Pattern"] and "INSERT" in pattern["Pattern"]
    (queue_event,) = FUNCTIONS["DeliverWebhookFunction"]["Properties"]["Events"].values()
    assert queue_event["Type"] == "SQS"
    assert queue_event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = TEMPLATE["Resources"]["WebhookQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}
    # Lambda's advice: a queue's visibility timeout at least six times its function's timeout
    assert queue["VisibilityTimeout"] >= 6 * FUNCTIONS["DeliverWebhookFunction"]["Properties"]["Timeout"]


def test_loopback_webhooks_are_off_in_every_deployed_stage() -> None:
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["ALLOW_LOOPBACK_WEBHOOKS"] == "false"
    for name, resource in FUNCTIONS.items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        assert "ALLOW_LOOPBACK_WEBHOOKS" not in variables, name


def test_timer_definitions_round_trip_through_the_template_reader() -> None:
    assert {"DueTimersStateMachine"} == set(STATE_MACHINES)


def test_long_polls_fit_under_api_gateways_29_seconds() -> None:
    for route in ROUTES:
        assert route.timeout <= 28, route.logical_id
    assert int(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["MAX_POLL_SECONDS"]) <= 25


def test_no_scan_in_deployed_code() -> None:
    deployed = [*ROOT.glob("functions/**/*.py"), *ROOT.glob("layers/**/*.py")]
    offenders = [str(p) for p in deployed if re.search(r"\.scan\(|['\"]Scan['\"]", p.read_text())]
    assert deployed and offenders == []


def test_committed_openapi_matches_the_code() -> None:
    files = generated_files()  # docs/openapi.json, and the copy and the page GET /openapi.json and GET /docs serve
    assert OPENAPI_FILE in files and len(files) == 3
    for path, content in files.items():
        stale = f"{path.relative_to(ROOT)} is stale: run `make openapi` and commit it"
        assert path.is_file() and path.read_text() == content, stale


def test_openapi_documents_every_route_and_the_error_shape() -> None:
    import json

    document = json.loads(render())
    for route in ROUTES:
        assert route.method.lower() in document["paths"][route.path], route.path
    assert set(document["components"]["schemas"]["ErrorResponse"]["required"]) == {"error", "code"}


def test_the_outputs_name_what_make_replay_webhooks_reads() -> None:
    outputs = TEMPLATE["Outputs"]
    assert outputs["WebhookQueueArn"]["Value"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
    assert outputs["WebhookDeadLetterQueueArn"]["Value"] == {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}


def test_every_post_and_only_posts_may_keep_idempotency_records() -> None:
    posts = {route.logical_id for route in ROUTES if route.method == "POST"}
    assert len(posts) == 34
    for name, resource in FUNCTIONS.items():
        statements = [s for policy in resource["Properties"]["Policies"] for s in policy["Statement"]]
        granted = [s for s in statements if s["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}]
        if name in posts:
            ((statement,),) = (granted,)
            assert set(statement["Action"]) == {
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            }
        else:
            assert granted == [], name


SIGN_UPS = {"/keys", "/agents/register", "/owners/register", "/agents/connect"}
DOCS = {"/docs", "/openapi.json"}


def test_every_route_but_the_sign_ups_and_the_docs_runs_the_key_authorizer() -> None:
    from local.template import authorizer_of

    auth = TEMPLATE["Resources"]["Api"]["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    assert authorizer["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    for route in ROUTES:
        public = (route.path in SIGN_UPS and route.method == "POST") or route.path in DOCS
        expected = None if public else "AuthorizerFunction"
        assert authorizer_of(TEMPLATE, route) == expected, route.path
    # the authorizer only reads (and stamps) keys in the table
    statements = FUNCTIONS["AuthorizerFunction"]["Properties"]["Policies"][0]["Statement"]
    assert [s["Action"] for s in statements] == [["dynamodb:UpdateItem"]]


def test_every_api_function_may_count_its_rate_limit_and_the_limits_are_parameters() -> None:
    for route in ROUTES:
        statements = FUNCTIONS[route.logical_id]["Properties"]["Policies"][0]["Statement"]
        granted = [s for s in statements if s["Resource"] == {"Fn::GetAtt": ["RateLimitTable", "Arn"]}]
        assert [s["Action"] for s in granted] == [["dynamodb:UpdateItem"]], route.logical_id
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    for variable, parameter, default in (
        ("RATE_LIMIT_PER_MINUTE", "RateLimitPerMinute", 60),
        ("POLL_RATE_LIMIT_PER_MINUTE", "PollRateLimitPerMinute", 120),
        ("SIGNUP_LIMIT_PER_HOUR", "SignupLimitPerHour", 5),
        ("AUTHORIZER_CACHE_SECONDS", "AuthorizerCacheSeconds", 30),
        ("SIGNUP_GRANT", "SignupGrant", 100),
        ("FEE_PERCENT", "FeePercent", 10),
    ):
        assert variables[variable] == {"Ref": parameter}
        assert TEMPLATE["Parameters"][parameter]["Default"] == default


def test_long_polls_are_small_and_cannot_take_the_concurrency_the_rest_needs() -> None:
    long_polls = {
        route.logical_id
        for route in ROUTES
        if route.logical_id in ("NextTaskFunction", "ClaimNextTaskFunction", "GetResultFunction")
    }
    assert len(long_polls) == 3
    parameters = TEMPLATE["Parameters"]
    assert parameters["LongPollMemorySize"]["Default"] < TEMPLATE["Globals"]["Function"]["MemorySize"]
    assert parameters["LongPollConcurrency"]["Default"] > 0
    for name in long_polls:
        props = FUNCTIONS[name]["Properties"]
        assert props["MemorySize"] == {"Ref": "LongPollMemorySize"}, name
        assert props["ReservedConcurrentExecutions"] == {
            "Fn::If": ["ReservesLongPolls", {"Ref": "LongPollConcurrency"}, {"Ref": "AWS::NoValue"}]
        }, name
    reserved = [name for name, f in FUNCTIONS.items() if "ReservedConcurrentExecutions" in f["Properties"]]
    assert sorted(reserved) == sorted(long_polls)  # the rest share what is left
