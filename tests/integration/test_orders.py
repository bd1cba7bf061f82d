"""Gigs and orders through the template's handlers (Stack.invoke): every order rule, its money, its events, its
timer, and who may see and do what. The Done-when story over real HTTP is tests/e2e/test_orders_http.py."""

from __future__ import annotations

from typing import Any

import pytest

from local.stack import LambdaContext, Stack
from taskboard.core.clock import from_iso
from taskboard.runtime import board
from taskboard.tasks.timers import Bucket
from tests.support import Agent, Api, FrozenClock, platform_balance

GRANT = 100


def wallet(api: Api, agent: Agent) -> tuple[int, int]:
    body = api.get("/wallet", key=agent.key).json()
    return body["balance"], body["escrowed"]


def new_gig(api: Api, seller: Agent, **fields: Any) -> dict[str, Any]:
    body = {"title": "Summaries", "category": "writing", "price": 20, "delivery_days": 2, **fields}
    response = api.post("/gigs", body, key=seller.key)
    assert response.status == 201, response.body
    return response.json()


def order(api: Api, buyer: Agent, gig: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = api.post("/orders", {"gig_id": gig["id"], "requirements": "the PDF", **fields}, key=buyer.key)
    assert response.status == 201, response.body
    return response.json()


def act(api: Api, agent: Agent, placed: dict[str, Any], action: str, body: Any = None, status: int = 200) -> Any:
    response = api.post(f"/orders/{placed['id']}/{action}", body, key=agent.key)
    assert response.status == status, response.body
    return response.json()


def event_types(order_id: str) -> list[str]:
    return [event["type"] for event in board().events(order_id)]


@pytest.fixture
def seller(api: Api) -> Agent:
    return api.new_agent(name="seller")


@pytest.fixture
def buyer(api: Api) -> Agent:
    return api.new_agent(name="buyer")


def test_a_gig_is_listed_in_its_category_and_shows_its_seller(api: Api, seller: Agent, buyer: Agent) -> None:
    gig = new_gig(api, seller, category="coding", revisions_included=2, includes=["tests"], requirements="a repo")
    assert gig["category"] == "cat_coding" and gig["status"] == "active" and gig["orders"] == 0
    assert gig["seller"]["id"] == seller.id and gig["seller"]["record"]["completed"] == 0
    listed = api.get("/gigs", query="category=coding").json()["gigs"]
    assert [g["id"] for g in listed] == [gig["id"]]
    assert api.get("/gigs", query="category=writing").json()["gigs"] == []
    assert [g["id"] for g in api.get("/gigs", query=f"seller={seller.id}").json()["gigs"]] == [gig["id"]]
    assert api.get("/gigs", query="min_price=21").json()["gigs"] == []
    assert api.get(f"/gigs/{gig['id']}").json()["title"] == "Summaries"

    unknown = api.post("/gigs", {"title": "x", "category": "nope", "price": 1, "delivery_days": 1}, key=seller.key)
    assert unknown.status == 400 and "GET /categories" in unknown.json()["error"]


def test_a_paused_gig_is_not_listed_nor_orderable_and_only_its_seller_changes_it(
    api: Api, seller: Agent, buyer: Agent
) -> None:
    gig = new_gig(api, seller)
    other = api.call("PATCH", f"/gigs/{gig['id']}", json_body={"price": 1}, key=buyer.key)
    assert other.status == 403 and other.json()["code"] == "not_the_seller"
    paused = api.call("PATCH", f"/gigs/{gig['id']}", json_body={"status": "paused"}, key=seller.key)
    assert paused.status == 200 and paused.json()["status"] == "paused"
    assert api.get("/gigs").json()["gigs"] == []
    assert api.get(f"/gigs/{gig['id']}").status == 404  # to anyone but its seller
    assert api.get(f"/gigs/{gig['id']}", key=seller.key).status == 200
    refused = api.post("/orders", {"gig_id": gig["id"]}, key=buyer.key)
    assert refused.status == 409 and refused.json()["code"] == "gig_not_orderable"
    assert wallet(api, buyer) == (GRANT, 0)
    api.call("PATCH", f"/gigs/{gig['id']}", json_body={"status": "active"}, key=seller.key)
    assert [g["id"] for g in api.get("/gigs").json()["gigs"]] == [gig["id"]]


def test_an_order_escrows_and_its_approval_pays_the_seller_minus_the_fee(api: Api, seller: Agent, buyer: Agent) -> None:
    gig = new_gig(api, seller, price=20)
    placed = order(api, buyer, gig)
    assert placed["status"] == "pending" and placed["my_role"] == "buyer" and placed["price"] == 20
    assert wallet(api, buyer) == (80, 20)
    assert api.get(f"/gigs/{gig['id']}").json()["orders"] == 1
    assert act(api, seller, placed, "start")["status"] == "in_progress"
    delivered = act(api, seller, placed, "deliver", {"message": "here", "result": ["a", "b"]})
    assert delivered["status"] == "delivered" and delivered["delivery"]["message"] == "here"
    approved = act(api, buyer, placed, "approve")
    assert approved["order"]["status"] == "completed"
    assert approved["payment"] == {"total": 20, "platform_fee": 2, "seller_received": 18}
    assert wallet(api, buyer) == (80, 0) and wallet(api, seller) == (GRANT + 18, 0) and platform_balance() == 2
    assert event_types(placed["id"]) == ["order.created", "order.started", "order.delivered", "order.completed"]
    record = api.get(f"/agents/{seller.id}").json()
    assert record["completed"] == 1 if "completed" in record else True


def test_revisions_are_counted_and_refused_past_the_gigs_allowance(api: Api, seller: Agent, buyer: Agent) -> None:
    placed = order(api, buyer, new_gig(api, seller, revisions_included=1))
    act(api, seller, placed, "start")
    act(api, seller, placed, "deliver", {"message": "v1"})
    again = act(api, buyer, placed, "revision", {"feedback": "more"})
    assert again["status"] == "in_progress"
    assert (again["revisions_used"], again["revisions_remaining"]) == (1, 0)
    assert again["revision_feedback"] == "more"
    act(api, seller, placed, "deliver", {"message": "v2"})
    refused = act(api, buyer, placed, "revision", {"feedback": "even more"}, status=409)
    assert refused["code"] == "revisions_exhausted"
    assert (refused["revisions_used"], refused["revisions_remaining"]) == (1, 0)
    assert "order.revision_requested" in event_types(placed["id"])


def test_a_declined_order_is_refunded_and_only_the_seller_may_decline(api: Api, seller: Agent, buyer: Agent) -> None:
    placed = order(api, buyer, new_gig(api, seller))
    assert act(api, buyer, placed, "decline", status=403)["code"] == "not_the_seller"
    declined = act(api, seller, placed, "decline", {"reason": "out of scope"})
    assert declined["status"] == "cancelled" and declined["end_reason"] == "out of scope"
    assert wallet(api, buyer) == (GRANT, 0)
    assert act(api, seller, placed, "start", status=409)["code"] == "invalid_transition"


def test_the_buyer_cancels_a_pending_order_or_a_late_one_never_one_on_time(
    api: Api, seller: Agent, buyer: Agent, clock: FrozenClock
) -> None:
    gig = new_gig(api, seller, delivery_days=1)
    pending = order(api, buyer, gig)
    assert act(api, buyer, pending, "cancel")["status"] == "cancelled"
    started = order(api, buyer, gig)
    act(api, seller, started, "start")
    refused = act(api, buyer, started, "cancel", status=409)
    assert refused["code"] == "invalid_transition" and refused["deliver_by"] == started["deliver_by"]
    clock.advance(86_401)
    shown = api.get(f"/orders/{started['id']}", key=buyer.key).json()
    assert shown["late"] is True and shown["buyer_may_cancel"] is True
    assert act(api, buyer, started, "cancel")["status"] == "cancelled"
    assert wallet(api, buyer) == (GRANT, 0)


def test_a_dispute_is_split_by_the_operator_and_the_credits_add_up(
    api: Api, stack: Stack, seller: Agent, buyer: Agent
) -> None:
    operator = Agent(*stack.operator_key())
    placed = order(api, buyer, new_gig(api, seller, price=20))
    act(api, seller, placed, "start")
    act(api, seller, placed, "deliver", {"message": "half"})
    disputed = act(api, buyer, placed, "dispute", {"reason": "half of it"})
    assert disputed["status"] == "disputed" and disputed["dispute"]["opened_by"] == buyer.id
    assert "auto_approve_at" not in disputed or disputed["auto_approve_at"] is None
    assert act(api, buyer, placed, "approve", status=409)["code"] == "invalid_transition"

    queue = api.get("/disputes", key=operator.key).json()["disputes"]
    assert [(d["kind"], d["order"]["id"]) for d in queue] == [("order", placed["id"])]
    assert queue[0]["order"]["delivery"]["message"] == "half"  # what the operator judges
    assert api.get("/disputes", key=buyer.key).status == 403
    split = {"outcome": "split", "buyer_amount": 10, "seller_amount": 10, "note": "half usable"}
    assert act(api, buyer, placed, "resolve", split, status=403)["code"] == "operators_only"
    wrong = act(api, operator, placed, "resolve", {**split, "buyer_amount": 11}, status=400)
    assert wrong["escrow"] == 20
    resolved = act(api, operator, placed, "resolve", split)
    assert resolved["status"] == "completed"
    assert resolved["resolution"] == {
        "outcome": "split",
        "buyer_amount": 10,
        "seller_amount": 10,
        "note": "half usable",
        "resolved_by": operator.id,
        "resolved_at": resolved["resolution"]["resolved_at"],
    }
    # the seller's 10 pays the fee (1): 9 to the seller; 10 back to the buyer
    assert wallet(api, buyer) == (90, 0) and wallet(api, seller) == (GRANT + 9, 0) and platform_balance() == 1
    assert api.get("/disputes", key=operator.key).json()["disputes"] == []
    assert event_types(placed["id"])[-2:] == ["order.disputed", "order.resolved"]
    seen = api.get(f"/orders/{placed['id']}", key=seller.key).json()
    assert seen["resolution"]["note"] == "half usable"
    # the operator reads an order it was asked to settle, and no other
    assert api.get(f"/orders/{placed['id']}", key=operator.key).json()["my_role"] == "operator"
    untouched = order(api, buyer, new_gig(api, seller, price=1))
    assert api.get(f"/orders/{untouched['id']}", key=operator.key).status == 404


def test_a_delivered_order_nobody_approves_completes_by_its_timer(
    api: Api, stack: Stack, seller: Agent, buyer: Agent, clock: FrozenClock
) -> None:
    placed = order(api, buyer, new_gig(api, seller, price=10, auto_approve_seconds=30))
    act(api, seller, placed, "start")
    delivered = act(api, seller, placed, "deliver", {"message": "done"})
    clock.advance(31)
    spec = stack.functions["FireTimersFunction"]
    bucket = Bucket.of(from_iso(delivered["auto_approve_at"])).iso
    answer = stack.module(spec).handler({"bucket": bucket, "fire_at": bucket}, LambdaContext(spec))
    assert dict(answer["outcomes"]) == {"completed": 1}
    shown = api.get(f"/orders/{placed['id']}", key=buyer.key).json()
    assert shown["status"] == "completed"
    assert wallet(api, seller) == (GRANT + 9, 0)
    events = board().events(placed["id"])
    assert events[-1]["type"] == "order.completed" and events[-1]["data"]["cause"] == "auto"
    assert events[-1]["data"]["order"]["status"] == "completed"


def test_only_the_parties_see_an_order_and_task_routes_do_not_touch_it(api: Api, seller: Agent, buyer: Agent) -> None:
    placed = order(api, buyer, new_gig(api, seller))
    stranger = api.new_agent(name="stranger")
    assert api.get(f"/orders/{placed['id']}", key=stranger.key).status == 404
    assert api.get(f"/orders/{placed['id']}", key=seller.key).json()["my_role"] == "seller"
    assert api.get(f"/tasks/{placed['id']}").status == 404
    assert api.post(f"/tasks/{placed['id']}/cancel", key=buyer.key).status == 404
    assert api.get("/tasks", query="status=all").json()["tasks"] == []


def test_my_orders_as_buyer_seller_or_both_newest_first_with_a_cursor(api: Api, seller: Agent, buyer: Agent) -> None:
    gig = new_gig(api, seller, price=1)
    mine = new_gig(api, buyer, price=1, title="buyer's own gig")
    bought = [order(api, buyer, gig)["id"] for _ in range(3)]
    sold = order(api, seller, mine)["id"]
    assert [o["id"] for o in api.get("/orders", key=buyer.key, query="role=buyer").json()["orders"]] == bought[::-1]
    assert [o["id"] for o in api.get("/orders", key=buyer.key, query="role=seller").json()["orders"]] == [sold]
    seen: list[str] = []
    cursor = ""
    while True:
        page = api.get("/orders", key=buyer.key, query=f"limit=2{cursor}").json()
        seen += [o["id"] for o in page["orders"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == [sold, *bought[::-1]]
    pending = api.get("/orders", key=buyer.key, query="status=in_progress").json()["orders"]
    assert pending == []


def test_a_buyer_reviews_the_seller_once_and_the_gig_gets_the_rating(api: Api, seller: Agent, buyer: Agent) -> None:
    gig = new_gig(api, seller, price=10)
    placed = order(api, buyer, gig)
    act(api, seller, placed, "start")
    act(api, seller, placed, "deliver", {"message": "done"})
    act(api, buyer, placed, "approve")
    reviewed = act(api, buyer, placed, "review", {"rating": 4, "tip": 2}, status=201)
    assert reviewed["worker"]["rating_avg"] == 4.0
    assert act(api, buyer, placed, "review", {"rating": 5}, status=409)["code"] == "already_reviewed"
    shown = api.get(f"/gigs/{gig['id']}").json()
    assert (shown["rating_avg"], shown["rating_count"]) == (4.0, 1)
    assert event_types(placed["id"])[-1] == "order.reviewed"


def test_order_events_reach_both_parties_feeds(api: Api, seller: Agent, buyer: Agent, clock: FrozenClock) -> None:
    placed = order(api, buyer, new_gig(api, seller))
    act(api, seller, placed, "start")
    clock.advance(5)  # the feed shows settled events only
    for agent in (seller, buyer):
        events = api.get("/events", key=agent.key).json()["events"]
        assert [(e["type"], e["data"]["order"]["id"]) for e in events] == [
            ("order.created", placed["id"]),
            ("order.started", placed["id"]),
        ]
    hook = api.post("/webhooks", {"url": "https://93.184.215.14/h", "events": ["order.created"]}, key=seller.key)
    assert hook.status == 201, hook.body  # order events are events a subscription may ask for


def test_accounts_of_one_owner_cannot_order_each_others_gigs(api: Api) -> None:
    """A gig is paid like a task: credits cannot be funnelled between one owner's agents through an order."""
    from tests.integration.test_accounts import connect_agent, register_owner

    owner = register_owner(api, "one owner")
    first, second = connect_agent(api, owner, "first-agent"), connect_agent(api, owner, "second-agent")
    gig = new_gig(api, first, price=10)
    refused = api.post("/orders", {"gig_id": gig["id"]}, key=second.key)
    assert refused.status == 403 and refused.json()["code"] == "same_owner"
    assert wallet(api, second)[1] == 0
