"""Test helpers: a controllable clock and a small API client over the local stack (in-process or HTTP)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from local.stack import ProxyResponse, Stack


class FrozenClock:
    """A clock that moves only when told to. It starts at the real time, so the deadlines of the timers that
    the stack really runs (Step Functions on moto) lie in the real future and never fire during a test."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Agent:
    key: str
    id: str


class Api:
    """Calls the template's handlers through Stack.invoke, the way API Gateway would."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw_body: str | bytes | None = None,
        key: str | None = None,
        query: str = "",
        headers: dict[str, str] | None = None,
    ) -> ProxyResponse:
        sent = dict(headers or {})
        if key is not None:
            sent["x-api-key"] = key
        body = raw_body if raw_body is not None else (json.dumps(json_body) if json_body is not None else None)
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        return self.stack.invoke(method, path, headers=sent, query=query, body=body)

    def get(self, path: str, **kwargs: Any) -> ProxyResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> ProxyResponse:
        return self.call("POST", path, json_body=body, **kwargs)

    def new_agent(self, **body: Any) -> Agent:
        response = self.post("/keys", body)
        assert response.status == 201, response.body
        data = response.json()
        return Agent(key=data["key"], id=data["id"])

    def post_task(self, agent: Agent, **fields: Any) -> dict[str, Any]:
        response = self.post("/tasks", {"title": "a task", **fields}, key=agent.key)
        assert response.status == 201, response.body
        return response.json()


def fee_balances(table: str = "TasksTable") -> dict[str, int]:
    """Each fee account's balance (platform, platform.1, ... as many as Settings.fee_accounts; one that has taken
    no fee yet holds 0): where the platform's fees are, one BatchGetItem."""
    import boto3

    from taskboard.core.settings import get_settings
    from taskboard.money.rules import fee_accounts

    names = fee_accounts(get_settings().fee_accounts)
    lookups = [{"pk": {"S": f"ACCOUNT#{name}"}, "sk": {"S": "ACCOUNT"}} for name in names]
    answer = boto3.client("dynamodb", region_name="us-east-1").batch_get_item(
        RequestItems={table: {"Keys": lookups, "ConsistentRead": True}}
    )
    found = {
        item["pk"]["S"].removeprefix("ACCOUNT#"): int(item.get("balance", {}).get("N", "0"))
        for item in answer["Responses"][table]
    }
    return {name: found.get(name, 0) for name in names}


def platform_balance() -> int:
    """The platform's credits: every fee account's balance added up."""
    return sum(fee_balances().values())


QUICKSTART_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["zip", "median_value"],
        "properties": {"zip": {"type": "string"}, "median_value": {"type": "number"}},
    },
}
