"""Idempotency without secrets: an answer that hands out a secret is never kept with it, and a retry of it makes
nothing twice and shows nothing twice (409 idempotency_secret_shown, with the first answer minus its secrets).

Every test here runs with STRICT_SECRET_SCAN on, so a secret-shaped value in a field that
taskboard.http.idempotency.SECRET_FIELDS does not name fails the request loudly instead of being withheld quietly."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from local.stack import ProxyResponse, Stack
from taskboard.http.idempotency import SECRET_SHAPE
from tests.integration.test_authorization import scan_table
from tests.support import Agent, Api

SHAPES = ("atb_", "atr_", "whsec_")


@pytest.fixture(autouse=True)
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskboard.http import idempotency

    monkeypatch.setattr(idempotency, "STRICT_SECRET_SCAN", True)


def records(stack: Stack) -> list[dict[str, Any]]:
    """Every item of the idempotency table."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": stack.names["IdempotencyTable"], "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def made() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """What a request can make: every item of the board's table but the webhook delivery log (which the
    background deliveries write to), and each subscription's secret (which a rotation changes)."""
    items = [item for item in scan_table() if not item["pk"]["S"].startswith("HOOKLOG#")]
    hooks = {item["sk"]["S"]: item["secret"]["S"] for item in items if item["sk"]["S"].startswith("WEBHOOK#")}
    return [(item["pk"]["S"], item["sk"]["S"]) for item in items], hooks


def field(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body[part]
    return body


def without(body: Any, paths: list[str]) -> Any:
    """The body with the fields at `paths` set to null."""
    copied = json.loads(json.dumps(body))
    for path in paths:
        parent, _, last = path.rpartition(".")
        (field(copied, parent) if parent else copied)[last] = None
    return copied


def send(
    api: Api, path: str, body: Any = None, key: str | None = None, idem: str = "once", ip: str = "127.0.0.1"
) -> ProxyResponse:
    """A POST with an Idempotency-Key from the address `ip`."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": idem}
    if key is not None:
        headers["x-api-key"] = key
    text = json.dumps(body) if body is not None else None
    return api.stack.invoke("POST", path, headers=headers, body=text, source_ip=ip)


def assert_shown_once(again: ProxyResponse, first: ProxyResponse, paths: list[str]) -> None:
    """A retry's answer: 409 naming what was withheld, the first answer without it, and no secret anywhere."""
    assert again.status == 409, again.body
    answer = again.json()
    assert answer["code"] == "idempotency_secret_shown"
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert answer["withheld"] == paths
    assert answer["first_status"] == first.status
    assert answer["first_response"] == without(first.json(), paths)
    for path in paths:
        assert field(first.json(), path) not in again.body
    assert not SECRET_SHAPE.search(again.body), again.body


# ---- the list of secret fields is the API's --------------------------------------------------------------------


def _shown_once(schema: dict[str, Any], components: dict[str, Any], path: str = "", seen: tuple[str, ...] = ()):
    """The dotted paths of every property a response schema describes as "Shown once"."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _shown_once(components[name], components, path, (*seen, name))
        return
    for combined in ("anyOf", "oneOf", "allOf"):
        for inner in schema.get(combined, []):
            yield from _shown_once(inner, components, path, seen)
    for name, prop in (schema.get("properties") or {}).items():
        inner_path = f"{path}.{name}" if path else name
        if "shown once" in str(prop.get("description", "")).lower():
            yield inner_path
        yield from _shown_once(prop, components, inner_path, seen)


def test_the_secret_fields_are_every_field_the_api_document_says_is_shown_once() -> None:
    from local.openapi import generate
    from taskboard.http.idempotency import SECRET_FIELDS

    document = generate()
    components = document["components"]["schemas"]
    found: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                for media in (response.get("content") or {}).values():
                    if not status.startswith("2"):
                        continue
                    fields = set(_shown_once(media["schema"], components))
                    if fields:
                        assert method == "post", f"{method.upper()} {path} answers with a secret"
                        found.setdefault(path, set()).update(fields)
    assert found == {route: set(paths) for route, paths in SECRET_FIELDS.items()}


# ---- nothing secret is kept, and nothing is made twice ---------------------------------------------------------


def test_no_secret_is_kept_and_a_retry_makes_nothing_twice_and_shows_nothing_twice(api: Api, stack: Stack) -> None:
    from taskboard.http.idempotency import SECRET_FIELDS

    # Given every route that hands out a secret, called once with an Idempotency-Key
    calls: list[tuple[str, Any, str | None, list[str]]] = []
    firsts: list[ProxyResponse] = []

    def first(path: str, body: Any, key: str | None, *secret_fields: str) -> Any:
        response = send(api, path, body, key)
        assert response.status in (200, 201), response.body
        calls.append((path, body, key, list(secret_fields)))
        firsts.append(response)
        return response.json()

    quick = first("/keys", {"name": "quick"}, None, "key")
    first("/agents/register", {"name": "registered", "capabilities": ["data"]}, None, "key")
    owner = first("/owners/register", {"name": "Ada"}, None, "key")
    token = first("/agents/register-token", {"agent_id": "ada-coder"}, owner["key"], "registration_token")
    connect = {"registration_token": token["registration_token"], "agent_id": "ada-coder", "agent_name": "coder"}
    first("/agents/connect", connect, None, "key")
    first("/agents/me/keys", None, quick["key"], "key")
    hook = first("/webhooks", {"url": "http://127.0.0.1:9/hook"}, quick["key"], "secret")
    first(f"/webhooks/{hook['id']}/rotate", None, quick["key"], "secret")
    task = {"title": "called back", "callback_url": "http://127.0.0.1:9/callback"}
    posted = first("/tasks", task, quick["key"], "callback.secret")
    secrets = [
        field(response.json(), path) for response, (*_, paths) in zip(firsts, calls, strict=True) for path in paths
    ]
    assert len(secrets) == 9 and all(secret.startswith(SHAPES) for secret in secrets)
    assert {path.replace(hook["id"], "{webhook_id}") for path, *_ in calls} == set(SECRET_FIELDS)  # every one

    # Then the idempotency table holds a record of each, and no secret, nor anything shaped like one
    kept = records(stack)
    assert len(kept) == 9
    stored = json.dumps(kept)
    for secret in secrets:
        prefix, _, rest = secret.partition("_")
        assert secret not in stored and rest not in stored, f"a secret ({prefix}_...) is kept"
    assert not SECRET_SHAPE.search(stored)  # (a key's public `prefix`, atb_ and 4 characters, is no secret)

    # When each is sent again, with the same key and body (as a client's retry would)
    before = made()
    for (path, body, key, paths), response in zip(calls, firsts, strict=True):
        again = send(api, path, body, key)
        # Then it is refused as shown once, with the first answer minus its secret
        assert_shown_once(again, response, paths)
    # ... and nothing was made twice: no account, key, token, subscription, rotation or task
    assert made() == before
    assert len(records(stack)) == 9

    # The ways out the messages name work: the task's callback secret can be renewed, the extra key whose
    # answer was lost can be revoked, and a sign-up with a new Idempotency-Key is a new account
    renewed = api.post(f"/webhooks/{posted['callback']['webhook_id']}/rotate", key=quick["key"])
    assert renewed.status == 200 and renewed.json()["secret"] not in secrets
    orphan = firsts[5].json()["key_id"]
    assert api.call("DELETE", f"/agents/me/keys/{orphan}", key=quick["key"]).status == 204
    fresh = send(api, "/keys", {"name": "quick"}, idem="twice")
    assert fresh.status == 201 and fresh.json()["id"] != quick["id"]


def test_a_secret_route_that_gave_no_secret_replays_as_usual(api: Api, poster: Agent) -> None:
    # A task without callback_url has no secret: its retry is the first answer again
    created = send(api, "/tasks", {"title": "no callback"}, poster.key)
    again = send(api, "/tasks", {"title": "no callback"}, poster.key)
    assert created.status == again.status == 201
    assert again.json() == created.json() and again.json()["callback"] is None
    assert again.headers.get("Idempotent-Replayed") == "true"
    # ... and an error answer of a secret route is kept and replayed like any other
    bad = {"registration_token": "atr_" + "x" * 43, "agent_id": "nobody-here", "agent_name": "n"}
    refused = send(api, "/agents/connect", bad, idem="bad-token")
    assert refused.status == 401
    replayed = send(api, "/agents/connect", bad, idem="bad-token")
    assert replayed.status == 401 and replayed.json() == refused.json()


# ---- two clients behind one address --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,body",
    [
        pytest.param("/keys", {"name": "n"}, id="keys"),
        pytest.param("/agents/register", {"name": "n"}, id="agents-register"),
        pytest.param("/owners/register", {"name": "n"}, id="owners-register"),
        pytest.param("/agents/connect", None, id="agents-connect"),
    ],
)
def test_two_clients_behind_one_nat_never_get_each_others_secret(api: Api, path: str, body: Any) -> None:
    if body is None:  # a connect: the owner gave both clients the same token (one of them will spend it)
        owner = send(api, "/owners/register", {"name": "owner"}, idem="owner").json()["key"]
        token = send(api, "/agents/register-token", {"agent_id": "shared"}, owner).json()["registration_token"]
        body = {"registration_token": token, "agent_id": "shared", "agent_name": "n"}
    nat = "203.0.113.7"
    # Given client A signs up from behind a NAT with the Idempotency-Key "1"
    a = send(api, path, body, idem="1", ip=nat)
    assert a.status == 201, a.body
    secret = a.json()["key"]
    before = made()
    # When client B, behind the same NAT, sends the same sign-up with the same key
    b = send(api, path, body, idem="1", ip=nat)
    # Then B does not get A's key (it is kept nowhere), and no second account is made
    assert_shown_once(b, a, ["key"])
    assert secret not in b.body
    assert made() == before
    # ... another body with that key is refused as a reused key, still with no secret
    renamed = "agent_name" if path == "/agents/connect" else "name"
    other = send(api, path, {**body, renamed: "other"}, idem="1", ip=nat)
    assert other.status == 422 and other.json()["code"] == "idempotency_key_reused" and secret not in other.body
    # ... and from another address the same key is a request of its own
    if path != "/agents/connect":  # (a token is spent once, whoever sends it)
        elsewhere = send(api, path, body, idem="1", ip="198.51.100.9")
        assert elsewhere.status == 201 and elsewhere.json()["key"] != secret


# ---- the second line: a secret nobody declared ---------------------------------------------------------------


def test_an_undeclared_secret_fails_loudly_in_tests(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from taskboard.http import idempotency

    # Given a route whose secret field someone forgot to declare
    monkeypatch.setitem(idempotency.SECRET_FIELDS, "/keys", ())
    # When it is called with an Idempotency-Key, the request fails instead of keeping the secret
    with pytest.raises(idempotency.UndeclaredSecret, match="key"):
        send(api, "/keys", {"name": "forgotten"}, idem="strict")
    assert records(stack) == []  # nothing kept (Powertools deletes the record of a request that raised)


def test_an_undeclared_secret_is_withheld_and_logged_in_production(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskboard.http import idempotency
    from taskboard.runtime import logger

    monkeypatch.setattr(idempotency, "STRICT_SECRET_SCAN", False)
    monkeypatch.setitem(idempotency.SECRET_FIELDS, "/keys", ())
    errors: list[str] = []
    monkeypatch.setattr(logger, "error", lambda message, *args, **kwargs: errors.append(str(message)))
    first = send(api, "/keys", {"name": "forgotten"}, idem="lenient")
    assert first.status == 201
    secret = first.json()["key"]
    # the caller got its key, the record did not, and the log says where (never what)
    assert secret not in json.dumps(records(stack))
    assert len(errors) == 1 and "key" in errors[0] and secret not in errors[0]
    assert_shown_once(send(api, "/keys", {"name": "forgotten"}, idem="lenient"), first, ["key"])


@pytest.mark.parametrize(
    "response,withheld",
    [
        pytest.param({"statusCode": 200, "body": '{"a": ["atb_' + "k" * 43 + '"]}'}, ["a.0"], id="in-a-list"),
        pytest.param({"statusCode": 200, "body": '{"atr_' + "t" * 43 + '": 1}'}, ["*"], id="a-dictionary-key"),
        pytest.param({"statusCode": 200, "body": "not json whsec_" + "s" * 43 + "="}, ["*"], id="text-body"),
        pytest.param(
            {"statusCode": 200, "headers": {"X-Key": "atb_" + "h" * 43}, "body": "{}"}, ["*"], id="in-a-header"
        ),
    ],
)
def test_a_secret_anywhere_in_an_answer_is_withheld(
    response: dict[str, Any], withheld: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskboard.http import idempotency

    monkeypatch.setattr(idempotency, "STRICT_SECRET_SCAN", False)
    monkeypatch.setattr(idempotency, "_report_undeclared", lambda route, paths: None)
    kept = idempotency.kept_form("/somewhere", response)
    assert kept["withheld"] == withheld
    assert not SECRET_SHAPE.search(json.dumps(kept))
    assert "withheld" not in response  # the caller's answer is untouched
