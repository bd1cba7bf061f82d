"""The authorizer: its answers (allow with the caller, anonymous, 401) and its per-container key cache."""

from __future__ import annotations

import hashlib
import importlib.util
from typing import Any

import pytest

from taskboard.accounts.keys import Caller, KeyLookup, new_key
from taskboard.core.errors import Unauthorized


class ConditionalCheckFailed(Exception):
    pass


class FakeKeys:
    """The one DynamoDB call KeyLookup makes (UpdateItem on KEY#<sha256>), over a dict, counting calls."""

    class exceptions:  # the boto3 client's shape
        ConditionalCheckFailedException = ConditionalCheckFailed

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.calls = 0

    def add(self, key: str, account_id: str, role: str = "agent", owner_id: str | None = None) -> None:
        item = {"account_id": {"S": account_id}, "key_id": {"S": "key_x"}, "role": {"S": role}}
        if owner_id:
            item["owner_id"] = {"S": owner_id}
        self.items[f"KEY#{hashlib.sha256(key.encode()).hexdigest()}"] = item

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        item = self.items.get(kwargs["Key"]["pk"]["S"])
        if item is None:
            raise ConditionalCheckFailed
        item["last_used_at"] = kwargs["ExpressionAttributeValues"][":now"]
        return {"Attributes": item}


@pytest.fixture
def table() -> FakeKeys:
    return FakeKeys()


def lookup(table: FakeKeys, now: list[float], ttl: float = 30) -> KeyLookup:
    return KeyLookup("T", ttl, clock=lambda: "2026-11-22T00:00:00.000000Z", monotonic=lambda: now[0], dynamodb=table)


def test_a_key_is_read_once_per_cache_period(table: FakeKeys) -> None:
    key, now = new_key().key, [100.0]
    table.add(key, "acct-1", "agent", "owner-1")
    keys = lookup(table, now)
    assert keys.caller(key) == Caller("acct-1", "agent", "key_x", "owner-1")
    keys.caller(key)
    now[0] += 29.9
    keys.caller(key)
    assert table.calls == 1
    now[0] += 0.2  # the period is over: read again, and a revoked key is refused from then on
    del table.items[next(iter(table.items))]
    with pytest.raises(Unauthorized):
        keys.caller(key)
    assert table.calls == 2


def test_unknown_and_malformed_keys_are_refused_and_never_cached(table: FakeKeys) -> None:
    keys, never_issued = lookup(table, [0.0]), new_key().key
    for _ in range(2):
        with pytest.raises(Unauthorized):
            keys.caller(never_issued)
    assert table.calls == 2  # a key issued later is accepted at once
    for malformed in ("", "atb_short", "sk_" + "x" * 44, never_issued + "x"):
        with pytest.raises(Unauthorized):
            keys.caller(malformed)
    assert table.calls == 2  # malformed keys cost no read


def test_a_zero_period_reads_every_time(table: FakeKeys) -> None:
    key = new_key().key
    table.add(key, "acct-1")
    keys = lookup(table, [0.0], ttl=0)
    keys.caller(key)
    keys.caller(key)
    assert table.calls == 2


def _authorizer() -> Any:
    from local.template import ROOT

    spec = importlib.util.spec_from_file_location("authorizer_app", ROOT / "functions/authorizer/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    function_name = "AuthorizerFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AuthorizerFunction"
    memory_limit_in_mb = 256
    aws_request_id = "req-1"


ARN = "arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/tasks"


def test_the_handler_allows_a_key_with_its_caller_anonymous_without_and_refuses_a_bad_one(
    table: FakeKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _authorizer()
    keys = lookup(table, [0.0])
    monkeypatch.setattr(app, "key_lookup", lambda: keys)
    key = new_key().key
    table.add(key, "acct-9", "owner")

    allowed = app.handler({"methodArn": ARN, "headers": {"Authorization": f"Bearer {key}"}}, Context())
    assert allowed["principalId"] == "acct-9"
    assert allowed["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}
    ]
    assert allowed["context"] == {"account_id": "acct-9", "role": "owner", "key_id": "key_x", "owner_id": ""}
    assert Caller.from_context(allowed["context"]) == Caller("acct-9", "owner", "key_x", None)

    anonymous = app.handler({"methodArn": ARN, "headers": {}}, Context())
    assert anonymous["principalId"] == "anonymous" and Caller.from_context(anonymous["context"]) is None

    # API Gateway answers 401 to an authorizer that raises exactly "Unauthorized"
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        app.handler({"methodArn": ARN, "headers": {"x-api-key": new_key().key}}, Context())


def test_two_different_keys_in_the_two_headers_are_refused_not_guessed() -> None:
    from taskboard.accounts.keys import ConflictingKeys, key_from_headers

    one, other = "atb_" + "a" * 43, "atb_" + "b" * 43
    with pytest.raises(ConflictingKeys):
        key_from_headers({"x-api-key": one, "Authorization": f"Bearer {other}"})
    # the same key in both is one key; either header alone is the key
    assert key_from_headers({"X-Api-Key": one, "authorization": f"bearer {one}"}) == one
    assert key_from_headers({"Authorization": f"Bearer {other}"}) == other
    # the UpClaws reference's header is a key header like ours
    assert key_from_headers({"X-Agent-API-Key": one}) == one
    assert key_from_headers({"x-agent-api-key": one, "x-api-key": one, "Authorization": f"Bearer {one}"}) == one
    with pytest.raises(ConflictingKeys):
        key_from_headers({"X-Agent-API-Key": one, "x-api-key": other})
    assert key_from_headers({"X-Agent-API-Key": "  ", "Authorization": "Basic abc"}) is None
