"""The whole API in one process: moto for AWS, template.yaml's handlers for the endpoints.

`Stack.invoke` turns an HTTP request into the API Gateway REST proxy event that API Gateway would send, calls
the function the template routes it to, and returns the proxy response: the handler cannot tell the
difference. The HTTP server (local/server.py) and the tests both go through it."""

from __future__ import annotations

import base64
import importlib.util
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from local import moto_patches
from local.services import QueuePoller, StreamPoller, event_pollers, provision, route_lambda_invocations
from local.template import (
    ROOT,
    FunctionRoute,
    FunctionSpec,
    authorizer_of,
    function_routes,
    functions,
    gateway_response,
    load_template,
    parameter_defaults,
    resolve,
)

LAYER = ROOT / "layers" / "common"
REGION = "us-east-1"
ACCOUNT = "123456789012"
STAGE = "local"

# Settings of the local stack that differ from the deployed one, and why.
LOCAL_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines would drown the log
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "ALLOW_LOOPBACK_WEBHOOKS": "true",  # a receiver on this machine (http://127.0.0.1:PORT) may subscribe
    "TIMER_MARGIN_SECONDS": "0",  # moto writes an index entry with its item: a deadline is listed at once
}
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class ProxyResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        import json

        return json.loads(self.body) if self.body else None


class LambdaContext:
    """What a handler reads from its context object."""

    def __init__(self, route: FunctionSpec) -> None:
        self.function_name = route.logical_id
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{route.logical_id}"
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{route.logical_id}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + route.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _serialize_aws_calls() -> None:
    """DynamoDB applies each request atomically; moto, called from many threads, does not. Serializing every
    mocked AWS call restores that guarantee (and only that: long polls sleep outside AWS calls)."""
    from moto.core.botocore_stubber import BotocoreStubber

    if getattr(BotocoreStubber, "_serialized", False):
        return
    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    BotocoreStubber._serialized = True  # type: ignore[attr-defined]


class Stack:
    """moto + the template's tables + the template's handlers. Use as a context manager."""

    def __init__(self, environment: dict[str, str] | None = None) -> None:
        self.template = load_template()
        self.routes = function_routes(self.template)
        self.functions = functions(self.template)
        self.names: dict[str, str] = {}
        self.pollers: list[StreamPoller | QueuePoller] = []
        self.extra_environment = environment or {}
        self._modules: dict[str, ModuleType] = {}
        self._mock: Any = None

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        os.environ.update(_FAKE_CREDENTIALS)
        from moto import mock_aws

        _serialize_aws_calls()
        moto_patches.apply()  # nothing in moto grows with the number of writes (local/moto_patches.py)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self.names = provision(self.template, parameter_defaults(self.template) | {"Stage": STAGE})
        environment: dict[str, str] = {}
        for spec in self.functions.values():
            environment |= {key: resolve(value, self.names) for key, value in spec.environment.items()}
        os.environ.update(environment | LOCAL_ENVIRONMENT | self.extra_environment)
        if str(LAYER) not in sys.path:
            sys.path.insert(0, str(LAYER))
        self._forget_cached_clients()
        route_lambda_invocations(self.call_function, self.functions)
        self.pollers = event_pollers(self.template, self.names, self.call_function)
        for poller in self.pollers:
            poller.start()

    def stop_pollers(self) -> None:
        """Stop reading streams and queues (a test that reads them itself, or drives a handler by hand)."""
        for poller in self.pollers:
            poller.stop()

    def stop(self) -> None:
        try:
            self.stop_pollers()
            self._stop_waiting_timers()
        finally:
            self.pollers = []
            route_lambda_invocations(None, {})
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            self._forget_cached_clients()

    def _stop_waiting_timers(self) -> None:
        """Executions still in their Wait state would otherwise wake up in whatever stack runs next.

        A parked timer (local/moto_patches.py: a Wait-first execution waits on the shared scheduler, not in a
        thread) stops at once. Best effort for the rest: moto cannot stop an execution whose worker thread has
        not started yet (it raises), and such a straggler is harmless (it finds no task and does nothing)."""
        if self._mock is None:
            return
        import boto3

        stepfunctions = boto3.client("stepfunctions", region_name=REGION)
        for name, arn in self.names.items():
            if ":stateMachine:" not in arn or "." in name:
                continue
            for execution in stepfunctions.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
                try:
                    stepfunctions.stop_execution(executionArn=execution["executionArn"])
                except Exception:  # noqa: S112 - see the docstring
                    continue

    def operator_key(self, name: str = "operator") -> tuple[str, str]:
        """A new operator account in the stack's table: (its key, its id). What `make operator-key` does against a
        deployed table (scripts/operator_key.py), and `make run` does once for its banner."""
        from scripts.operator_key import make

        account_id, key, _ = make(self.names["TasksTable"], name)
        return key, account_id

    def call_function(self, spec: FunctionSpec, event: Any) -> Any:
        """Invoke any of the template's functions in-process, as Lambda would (state machines, streams)."""
        return self.module(spec).handler(event, LambdaContext(spec))

    @staticmethod
    def _forget_cached_clients() -> None:
        """Handlers keep clients and settings per container; a new stack is a new container."""
        if "taskboard.runtime" in sys.modules:
            from taskboard import runtime
            from taskboard.core import aws

            aws.reset_clients()
            runtime.forget()

    # ---- routing ----

    def module(self, route: FunctionSpec) -> ModuleType:
        """The function's handler module, imported once from its CodeUri like Lambda does."""
        if route.logical_id not in self._modules:
            module_name, _ = route.handler.rsplit(".", 1)
            path = route.code_uri / f"{module_name}.py"
            spec = importlib.util.spec_from_file_location(f"functions.{route.code_uri.name}.{module_name}", path)
            assert spec and spec.loader, path
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[route.logical_id] = module
        return self._modules[route.logical_id]

    def match(self, method: str, path: str) -> tuple[FunctionRoute, dict[str, str]] | None:
        """The route API Gateway would pick: literal segments win over {parameters}."""
        parts = [part for part in path.split("/") if part]
        best: tuple[tuple[int, ...], FunctionRoute, dict[str, str]] | None = None
        for route in self.routes:
            if route.method != method or len(route.segments) != len(parts):
                continue
            params: dict[str, str] = {}
            rank = []
            for pattern, part in zip(route.segments, parts, strict=True):
                if pattern.startswith("{") and pattern.endswith("}"):
                    params[pattern[1:-1]] = part
                    rank.append(1)
                elif pattern == part:
                    rank.append(0)
                else:
                    break
            else:
                if best is None or tuple(rank) < best[0]:
                    best = (tuple(rank), route, params)
        return (best[1], best[2]) if best else None

    def invoke(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        query: str = "",
        body: bytes | str | None = None,
        source_ip: str = "127.0.0.1",
    ) -> ProxyResponse:
        method = method.upper()
        found = self.match(method, path)
        if found is None:
            # As the template's MISSING_AUTHENTICATION_TOKEN gateway response answers an unknown path or method.
            return self._gateway("MISSING_AUTHENTICATION_TOKEN", str(uuid.uuid4()))
        route, params = found
        event = build_event(route, path, params, headers or {}, query, body, source_ip)
        refused = self._authorize(route, event)
        if refused is not None:
            return refused
        result = self.module(route).handler(event, LambdaContext(route))
        response_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(values)
        text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        return ProxyResponse(int(result["statusCode"]), response_headers, text)

    def _gateway(self, kind: str, request_id: str, message: str = "") -> ProxyResponse:
        status, text = gateway_response(self.template, kind, request_id, message)
        return ProxyResponse(status, {"Content-Type": "application/json"}, text)

    def _authorize(self, route: FunctionRoute, event: dict[str, Any]) -> ProxyResponse | None:
        """What API Gateway does before it calls the route's function: run the route's Lambda authorizer (a
        REQUEST authorizer, result cache off, as the template says) and either refuse the request or put the
        authorizer's principal and context into `requestContext.authorizer`."""
        authorizer_id = authorizer_of(self.template, route)
        if authorizer_id is None:
            return None
        spec = self.functions[authorizer_id]
        # API Gateway names the request's own path in the method ARN, not the route's {parameters}
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:local/{STAGE}/{route.method}{event['path']}"
        request = authorizer_request(event, method_arn)
        request_id = event["requestContext"]["requestId"]
        try:
            policy = self.module(spec).handler(request, LambdaContext(spec))
        except Exception as error:
            kind = "UNAUTHORIZED" if str(error) == "Unauthorized" else "AUTHORIZER_FAILURE"
            return self._gateway(kind, request_id, "Unauthorized" if kind == "UNAUTHORIZED" else "")
        statements = policy.get("policyDocument", {}).get("Statement", [])
        allowed = any(
            statement.get("Effect") == "Allow" and statement.get("Resource") in (method_arn, "*")
            for statement in statements
        ) and not any(statement.get("Effect") == "Deny" for statement in statements)
        if not allowed:
            return self._gateway("ACCESS_DENIED", request_id, "User is not authorized to access this resource")
        # API Gateway hands the context's values on as strings, next to the principal id
        context = {name: str(value) for name, value in (policy.get("context") or {}).items()}
        event["requestContext"]["authorizer"] = {"principalId": policy["principalId"], **context}
        return None


# What API Gateway passes a REQUEST authorizer of the proxy event it is about to send (payload format 1.0).
AUTHORIZER_REQUEST_FIELDS = (
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
)


def authorizer_request(event: dict[str, Any], method_arn: str) -> dict[str, Any]:
    """The REQUEST authorizer's input for a proxy event, before the authorizer has put anything in it."""
    request = {"type": "REQUEST", "methodArn": method_arn} | {name: event[name] for name in AUTHORIZER_REQUEST_FIELDS}
    request["requestContext"] = {k: v for k, v in event["requestContext"].items() if k != "authorizer"}
    return request


def build_event(
    route: FunctionRoute,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    query: str,
    body: bytes | str | None,
    source_ip: str,
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload format 1.0), as API Gateway builds it."""
    pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers.items():
        multi_headers.setdefault(name, []).append(value)
    if isinstance(body, bytes):
        try:
            text: str | None = body.decode()
            encoded = False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
    else:
        text, encoded = body, False
    if not text:
        text = None  # API Gateway sends null, not "", for an empty body
    now = time.time()
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": route.method,
        "headers": dict(headers) or None,
        "multiValueHeaders": multi_headers or None,
        # API Gateway keeps the last value of a repeated parameter here, all of them below.
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": route.method,
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{STAGE}{path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", headers.get("user-agent"))},
            "domainName": "localhost",
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": encoded,
    }
