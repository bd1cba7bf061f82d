"""Section 1: DynamoDB requests per call of every route in template.yaml, with the items each call reads and
writes, counted by a botocore hook on the client the handlers use, while the real handlers run on moto."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from local.stack import Stack
from scripts.bench.api import RESULT, SCHEMA, UNLIMITED, BenchApi, Request
from scripts.bench.capacity import Cost
from scripts.bench.indexes import IndexWrites
from scripts.bench.recorder import Recorder
from scripts.bench.report import number, out, section, table
from tests.support import Agent

HOOK_URL = "http://127.0.0.1:9/hooks"  # loopback is allowed locally; nothing listens, nothing is slow


def endpoint_scenarios(api: BenchApi) -> dict[tuple[str, str], tuple[str, Callable[[], Request]]]:
    """Per route: the state it is called in, and a set-up (not measured) returning the one call to measure."""
    poster, worker = api.agent("poster"), api.agent("worker")
    for n in range(10):
        api.task(poster, title=f"python task {n}", tags=["python"])

    def open_task(**fields: Any) -> str:
        return api.task(poster, tags=["setup"], **fields)

    def claimed_task(**fields: Any) -> str:
        task_id = open_task(**fields)
        api.ok("POST", f"/tasks/{task_id}/claim", key=worker.key, body={"agent_id": "bench"})
        return task_id

    def delivered_task(**fields: Any) -> str:
        task_id = claimed_task(output_schema=SCHEMA, **fields)
        api.ok("POST", f"/tasks/{task_id}/deliver", key=worker.key, body={"result": RESULT})
        return task_id

    def completed_task(budget: int = 0) -> str:
        task_id = open_task(budget=budget)
        api.ok("POST", f"/tasks/{task_id}/claim", key=worker.key, body={"agent_id": "bench"})
        api.ok("POST", f"/tasks/{task_id}/deliver", key=worker.key, body={"result": RESULT})
        api.ok("POST", f"/tasks/{task_id}/complete", key=poster.key)
        return task_id

    def disputed_task() -> str:
        task_id = delivered_task()
        api.ok("POST", f"/tasks/{task_id}/dispute", key=poster.key, body={"reason": "no"})
        return task_id

    def webhook() -> str:
        body = {"url": HOOK_URL, "events": ["task.failed"]}  # nothing of the bench fails: no deliveries
        return str(api.ok("POST", "/webhooks", key=poster.key, body=body)["id"])

    def owner() -> Agent:
        made = api.ok("POST", "/owners/register", body={"name": "owner"})
        return Agent(made["key"], made["account"]["id"])

    def token() -> dict[str, str]:
        agent_id = f"agent-{uuid.uuid4().hex[:12]}"
        made = api.ok("POST", "/agents/register-token", key=owner().key, body={"agent_id": agent_id})
        return {"registration_token": made["registration_token"], "agent_id": agent_id, "agent_name": "bench"}

    def second_key() -> str:
        return str(api.ok("POST", "/agents/me/keys", key=poster.key)["key_id"])

    def gig(price: int = 5) -> str:
        body = {"title": "bench gig", "category": "coding", "price": price, "delivery_days": 1, "revisions_included": 1}
        return str(api.ok("POST", "/gigs", key=worker.key, body=body)["id"])

    def order(to: str = "") -> str:
        """An order of the worker's gig by the poster, brought to `to` (pending by default)."""
        order_id = str(api.ok("POST", "/orders", key=poster.key, body={"gig_id": gig(), "requirements": "r"})["id"])
        steps = [("start", worker, None), ("deliver", worker, {"message": "done"}), ("approve", poster, None)]
        wanted = {"": 0, "started": 1, "delivered": 2, "disputed": 2, "completed": 3}[to]
        for action, agent, body in steps[:wanted]:
            api.ok("POST", f"/orders/{order_id}/{action}", key=agent.key, body=body)
        if to == "disputed":
            api.ok("POST", f"/orders/{order_id}/dispute", key=poster.key, body={"reason": "no"})
        return order_id

    operator_key, _ = api.stack.operator_key()
    next_query = "skills=python&timeout=0"
    new_task = {"title": "new", "description": "Do it.", "input": {"x": 1}, "tags": ["other"], "output_schema": SCHEMA}
    return {
        ("POST", "/keys"): ("no key needed", lambda: Request("POST", "/keys", body={"name": "bench"})),
        ("POST", "/agents/register"): (
            "2 capabilities",
            lambda: Request("POST", "/agents/register", body={"name": "bench", "capabilities": ["coding", "data"]}),
        ),
        ("POST", "/owners/register"): ("", lambda: Request("POST", "/owners/register", body={"name": "bench"})),
        ("POST", "/agents/register-token"): (
            "owner's key",
            lambda: Request("POST", "/agents/register-token", owner().key, {"agent_id": f"a-{uuid.uuid4().hex}"}),
        ),
        ("POST", "/agents/connect"): ("fresh token", lambda: Request("POST", "/agents/connect", body=token())),
        ("GET", "/docs"): ("the reference page", lambda: Request("GET", "/docs")),
        ("GET", "/openapi.json"): ("the document", lambda: Request("GET", "/openapi.json")),
        ("GET", "/agents"): ("capability=coding", lambda: Request("GET", "/agents", query="capability=coding")),
        ("GET", "/agents/{agent_id}"): ("", lambda: Request("GET", f"/agents/{poster.id}")),
        ("GET", "/categories"): ("the shipped list, no key", lambda: Request("GET", "/categories")),
        ("GET", "/agents/me"): ("", lambda: Request("GET", "/agents/me", poster.key)),
        ("PATCH", "/agents/me"): (
            "status and 1 capability",
            lambda: Request("PATCH", "/agents/me", poster.key, {"status": "busy", "capabilities": ["python"]}),
        ),
        ("POST", "/agents/me/keys"): ("", lambda: Request("POST", "/agents/me/keys", worker.key)),
        ("GET", "/agents/me/keys"): ("1 key", lambda: Request("GET", "/agents/me/keys", worker.key)),
        ("DELETE", "/agents/me/keys/{key_id}"): (
            "one of 2 keys",
            lambda: Request("DELETE", f"/agents/me/keys/{second_key()}", poster.key),
        ),
        ("GET", "/wallet"): ("", lambda: Request("GET", "/wallet", poster.key)),
        ("GET", "/wallet/ledger"): ("1 entry (the grant)", lambda: Request("GET", "/wallet/ledger", worker.key)),
        ("POST", "/tasks"): ("1 tag, with output_schema", lambda: Request("POST", "/tasks", poster.key, new_task)),
        ("GET", "/tasks"): (
            "10 open 'python' tasks, no key",
            lambda: Request("GET", "/tasks", query="status=open&skills=python"),
        ),
        ("GET", "/tasks/{task_id}"): (
            "open, poster's key",
            lambda: Request("GET", f"/tasks/{open_task()}", poster.key),
        ),
        ("GET", "/tasks/next"): (
            "10 open 'python' tasks, timeout=0",
            lambda: Request("GET", "/tasks/next", worker.key, query=next_query),
        ),
        ("POST", "/tasks/next/claim"): (
            "10 open 'python' tasks, timeout=0",
            lambda: Request("POST", "/tasks/next/claim", worker.key, {"agent_id": "bench"}, next_query),
        ),
        ("POST", "/tasks/{task_id}/claim"): (
            "open",
            lambda: Request("POST", f"/tasks/{open_task()}/claim", worker.key, {"agent_id": "bench"}),
        ),
        ("POST", "/tasks/{task_id}/heartbeat"): (
            "claimed by the caller",
            lambda: Request("POST", f"/tasks/{claimed_task()}/heartbeat", worker.key, {"attempt": 1}),
        ),
        ("POST", "/tasks/{task_id}/release"): (
            "claimed by the caller",
            lambda: Request("POST", f"/tasks/{claimed_task()}/release", worker.key, {"attempt": 1}),
        ),
        ("POST", "/tasks/{task_id}/deliver"): (
            "claimed, with output_schema",
            lambda: Request(
                "POST", f"/tasks/{claimed_task(output_schema=SCHEMA)}/deliver", worker.key, {"result": RESULT}
            ),
        ),
        ("GET", "/tasks/{task_id}/result"): (
            "delivered, timeout=0",
            lambda: Request("GET", f"/tasks/{delivered_task()}/result", poster.key, query="timeout=0"),
        ),
        ("POST", "/tasks/{task_id}/complete"): (
            "delivered",
            lambda: Request("POST", f"/tasks/{delivered_task()}/complete", poster.key),
        ),
        ("POST", "/tasks/{task_id}/reject"): (
            "delivered",
            lambda: Request("POST", f"/tasks/{delivered_task()}/reject", poster.key, {"reason": "not good enough"}),
        ),
        ("POST", "/tasks/{task_id}/cancel"): (
            "open",
            lambda: Request("POST", f"/tasks/{open_task()}/cancel", poster.key),
        ),
        ("POST", "/tasks/{task_id}/review"): (
            "completed, paid; with a tip",
            lambda: Request("POST", f"/tasks/{completed_task(budget=5)}/review", poster.key, {"rating": 5, "tip": 1}),
        ),
        ("POST", "/tasks/{task_id}/revision"): (
            "delivered, 1 revision allowed",
            lambda: Request(
                "POST", f"/tasks/{delivered_task(revisions_included=1)}/revision", poster.key, {"feedback": "more"}
            ),
        ),
        ("POST", "/tasks/{task_id}/dispute"): (
            "delivered",
            lambda: Request("POST", f"/tasks/{delivered_task()}/dispute", poster.key, {"reason": "no"}),
        ),
        ("POST", "/tasks/{task_id}/resolve"): (
            "disputed; pay",
            lambda: Request("POST", f"/tasks/{disputed_task()}/resolve", operator_key, {"outcome": "pay", "note": "n"}),
        ),
        ("GET", "/agents/{agent_id}/reviews"): (
            "reviews of the worker",
            lambda: Request("GET", f"/agents/{worker.id}/reviews", query="limit=20"),
        ),
        ("POST", "/webhooks"): (
            "2 skills",
            lambda: Request("POST", "/webhooks", worker.key, {"url": HOOK_URL, "skills": ["python", "pdf"]}),
        ),
        ("GET", "/webhooks"): ("1 subscription", lambda: Request("GET", "/webhooks", poster.key)),
        ("GET", "/webhooks/{webhook_id}"): ("", lambda: Request("GET", f"/webhooks/{webhook()}", poster.key)),
        ("DELETE", "/webhooks/{webhook_id}"): ("", lambda: Request("DELETE", f"/webhooks/{webhook()}", poster.key)),
        ("POST", "/webhooks/{webhook_id}/rotate"): (
            "",
            lambda: Request("POST", f"/webhooks/{webhook()}/rotate", poster.key),
        ),
        ("POST", "/webhooks/{webhook_id}/enable"): (
            "active",
            lambda: Request("POST", f"/webhooks/{webhook()}/enable", poster.key),
        ),
        ("POST", "/webhooks/{webhook_id}/test"): (
            "(+1 SQS SendMessageBatch)",
            lambda: Request("POST", f"/webhooks/{webhook()}/test", poster.key),
        ),
        ("GET", "/webhooks/{webhook_id}/deliveries"): (
            "empty log",
            lambda: Request("GET", f"/webhooks/{webhook()}/deliveries", poster.key),
        ),
        ("GET", "/events"): (
            "~40 events of the poster",
            lambda: Request("GET", "/events", poster.key, query="limit=20"),
        ),
        ("POST", "/gigs"): (
            "with a schema",
            lambda: Request(
                "POST",
                "/gigs",
                worker.key,
                {"title": "g", "category": "coding", "price": 5, "delivery_days": 1, "output_schema": SCHEMA},
            ),
        ),
        ("GET", "/gigs"): ("category=coding, no key", lambda: Request("GET", "/gigs", query="category=coding")),
        ("GET", "/gigs/{gig_id}"): ("no key", lambda: Request("GET", f"/gigs/{gig()}")),
        ("PATCH", "/gigs/{gig_id}"): (
            "pause",
            lambda: Request("PATCH", f"/gigs/{gig()}", worker.key, {"status": "paused"}),
        ),
        ("POST", "/orders"): (
            "price 5 (escrow)",
            lambda: Request("POST", "/orders", poster.key, {"gig_id": gig(), "requirements": "r"}),
        ),
        ("GET", "/orders"): ("the buyer's, both roles", lambda: Request("GET", "/orders", poster.key)),
        ("GET", "/orders/{order_id}"): (
            "delivered, buyer",
            lambda: Request("GET", f"/orders/{order('delivered')}", poster.key),
        ),
        ("POST", "/orders/{order_id}/start"): (
            "pending",
            lambda: Request("POST", f"/orders/{order()}/start", worker.key),
        ),
        ("POST", "/orders/{order_id}/decline"): (
            "pending (refund)",
            lambda: Request("POST", f"/orders/{order()}/decline", worker.key, {"reason": "busy"}),
        ),
        ("POST", "/orders/{order_id}/deliver"): (
            "started",
            lambda: Request("POST", f"/orders/{order('started')}/deliver", worker.key, {"message": "done"}),
        ),
        ("POST", "/orders/{order_id}/approve"): (
            "delivered (payout)",
            lambda: Request("POST", f"/orders/{order('delivered')}/approve", poster.key),
        ),
        ("POST", "/orders/{order_id}/revision"): (
            "delivered",
            lambda: Request("POST", f"/orders/{order('delivered')}/revision", poster.key, {"feedback": "more"}),
        ),
        ("POST", "/orders/{order_id}/cancel"): (
            "pending (refund)",
            lambda: Request("POST", f"/orders/{order()}/cancel", poster.key),
        ),
        ("POST", "/orders/{order_id}/dispute"): (
            "delivered",
            lambda: Request("POST", f"/orders/{order('delivered')}/dispute", poster.key, {"reason": "no"}),
        ),
        ("POST", "/orders/{order_id}/resolve"): (
            "disputed; split",
            lambda: Request(
                "POST",
                f"/orders/{order('disputed')}/resolve",
                operator_key,
                {"outcome": "split", "buyer_amount": 2, "seller_amount": 3, "note": "half"},
            ),
        ),
        ("POST", "/orders/{order_id}/review"): (
            "completed; rating",
            lambda: Request("POST", f"/orders/{order('completed')}/review", poster.key, {"rating": 5}),
        ),
        ("GET", "/disputes"): ("1 open dispute", lambda: Request("GET", "/disputes", operator_key)),
    }


def run() -> None:
    section("1. DynamoDB requests per call, by endpoint")
    with Stack(environment=UNLIMITED) as stack:
        api, recorder = BenchApi(stack), Recorder()
        index_writes = IndexWrites(stack.template)
        scenarios = endpoint_scenarios(api)
        rows: list[tuple[object, ...]] = []
        for route in stack.routes:
            name = f"{route.method} {route.path}"
            found = scenarios.get((route.method, route.path))
            if found is None:
                rows.append((name, "(no scenario in the bench)", "", "", "", "", "", "", "", "", ""))
                continue
            state, prepare = found
            request = prepare()
            written = index_writes.mark()
            with recorder.measure() as calls:
                response = api.send(request)
            cost = Cost.of(calls)
            indexed = sum(index_writes.since(written).values())
            rows.append(
                (
                    name,
                    state,
                    response.status,
                    cost.describe(),
                    cost.total,
                    cost.items_read,
                    cost.items_written,
                    number(cost.rcu),
                    number(cost.wcu),
                    number(indexed),
                    number(cost.wcu + indexed),
                )
            )
        index_writes.close()
    headers = (
        "endpoint",
        "called in state",
        "HTTP",
        "DynamoDB requests",
        "reqs",
        "read",
        "written",
        "RCU~",
        "WCU~ items",
        "WCU~ indexes",
        "WCU~",
    )
    table(headers, rows, right=(2, 4, 5, 6, 7, 8, 9, 10))
    out()
    out("read/written: items per call (Query: ScannedCount; GetItem/BatchGetItem: items returned).")
    out("RCU~/WCU~: estimated from item sizes (moto reports no real consumed capacity). WCU~ indexes: the GSI")
    out("writes DynamoDB bills beside the items, from each write's old and new image (scripts/bench/indexes.py);")
    out("WCU~ is both, what DynamoDB would bill.")
