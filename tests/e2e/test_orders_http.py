"""Issue 16's "Done when", over HTTP against the running local stack: a seller lists a gig in a category; a
buyer orders it (escrow); the seller starts and delivers; the buyer asks for a revision, the seller delivers
again, the buyer approves and the seller is paid minus the fee; a second order is declined and refunded; a third
is disputed and the operator splits it; a fourth is left delivered and completes by its timer; `make audit` is
clean and every credit is accounted for."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import requests

from taskboard.core.clock import from_iso
from taskboard.runtime import board
from taskboard.tasks.timers import BUCKET_SECONDS
from tests.e2e.conftest import Live

GRANT = 100


def call(live: Live, method: str, path: str, key: str | None, body: Any = None, expect: int = 200) -> Any:
    headers = {"X-Agent-API-Key": key} if key else {}  # the reference's header, accepted like x-api-key
    response = requests.request(method, f"{live.url}{path}", json=body, headers=headers, timeout=30)
    assert response.status_code == expect, response.text
    return response.json()


def wallet(live: Live, key: str) -> tuple[int, int]:
    held = call(live, "GET", "/wallet", key)
    return held["balance"], held["escrowed"]


def test_a_gig_ordered_four_times_pays_refunds_splits_and_approves_itself(live: Live) -> None:
    seller, buyer = live.new_agent("seller"), live.new_agent("buyer")
    operator_key, operator_id = live.stack.operator_key()

    # a seller lists a gig in a category (anyone sees it there)
    categories = call(live, "GET", "/categories", None)["categories"]
    writing = next(category for category in categories if category["slug"] == "writing")
    gig = call(
        live,
        "POST",
        "/gigs",
        seller.key,
        {
            "title": "Ten bullet points from any PDF",
            "category_id": writing["id"],  # the reference's field name, accepted like `category`
            "price": 20,
            "delivery_days": 1,
            "revisions_included": 1,
            "auto_approve_seconds": 30,
            "output_schema": {"type": "array", "items": {"type": "string"}},
        },
        expect=201,
    )
    listed = call(live, "GET", f"/gigs?category={writing['slug']}", None)["gigs"]
    assert [g["id"] for g in listed] == [gig["id"]] and listed[0]["seller"]["id"] == seller.id

    def order() -> dict[str, Any]:
        body = {"gig_id": gig["id"], "requirements": "a PDF"}
        return dict(call(live, "POST", "/orders", buyer.key, body, expect=201))

    def act(who: str, placed: dict[str, Any], action: str, body: Any = None, expect: int = 200) -> Any:
        return call(live, "POST", f"/orders/{placed['id']}/{action}", who, body, expect=expect)

    # 1. ordered (escrow), started, delivered, sent back once, delivered again, approved: paid minus the fee
    first = order()
    assert first["status"] == "pending" and wallet(live, buyer.key) == (80, 20)
    act(seller.key, first, "start")
    wrong = act(seller.key, first, "deliver", {"message": "v1", "result": "not a list"}, expect=422)
    assert wrong["code"] == "result_invalid"
    act(seller.key, first, "deliver", {"message": "v1", "result": ["one"]})
    revised = act(buyer.key, first, "revision", {"feedback": "ten, please"})
    assert (revised["status"], revised["revisions_used"], revised["revisions_remaining"]) == ("in_progress", 1, 0)
    act(seller.key, first, "deliver", {"message": "v2", "result": ["point"] * 10})
    approved = act(buyer.key, first, "approve")
    assert approved["payment"] == {"total": 20, "platform_fee": 2, "seller_received": 18}
    assert wallet(live, seller.key) == (GRANT + 18, 0)

    # 2. declined by the seller: the buyer refunded
    second = order()
    assert act(seller.key, second, "decline", {"reason": "too busy"})["status"] == "cancelled"
    assert wallet(live, buyer.key) == (80, 0)

    # 3. disputed by the buyer, split by the operator: 12 back, 8 to the seller less the fee (0 of 8 at 10%)
    third = order()
    act(seller.key, third, "start")
    act(seller.key, third, "deliver", {"message": "partial", "result": ["a"]})
    act(buyer.key, third, "dispute", {"reason": "one point of ten"})
    queue = call(live, "GET", "/disputes", operator_key)["disputes"]
    assert [(d["kind"], d["order"]["id"]) for d in queue] == [("order", third["id"])]
    split = {"outcome": "split", "buyer_amount": 12, "seller_amount": 8, "note": "one of ten points"}
    resolved = act(operator_key, third, "resolve", split)
    assert resolved["status"] == "completed" and resolved["resolution"]["resolved_by"] == operator_id
    assert call(live, "GET", f"/orders/{third['id']}", buyer.key)["resolution"]["note"] == "one of ten points"
    assert wallet(live, buyer.key) == (60 + 12, 0)
    assert wallet(live, seller.key) == (GRANT + 18 + 8, 0)

    # 4. delivered and left alone: its timer approves it after auto_approve_seconds, never before
    fourth = order()
    act(seller.key, fourth, "start")
    delivered = act(seller.key, fourth, "deliver", {"message": "done", "result": ["x"]})
    deadline = from_iso(delivered["auto_approve_at"]).timestamp()
    while time.time() < deadline + 15:
        status = call(live, "GET", f"/orders/{fourth['id']}", buyer.key)["status"]
        if status == "completed":
            break
        assert status == "delivered"  # nothing else happens to it meanwhile
        time.sleep(0.5)
    else:
        raise AssertionError("the order was not approved by its timer within 15 s of its deadline")
    (auto,) = [e for e in board().events(fourth["id"]) if e["type"] == "order.completed"]
    assert auto["data"]["cause"] == "auto"
    lateness = (from_iso(auto["timestamp"]).timestamp()) - deadline
    assert 0 <= lateness < BUCKET_SECONDS + 3, lateness
    assert call(live, "GET", f"/orders/{fourth['id']}", seller.key)["status"] == "completed"

    # every credit accounted for: 72 + 144 + the fees (2 + 0 + 2) = the two grants
    assert wallet(live, buyer.key) == (52, 0)
    assert wallet(live, seller.key) == (GRANT + 18 + 8 + 18, 0)
    mine = call(live, "GET", "/orders?role=buyer", buyer.key)["orders"]
    assert [o["status"] for o in mine] == ["completed", "completed", "cancelled", "completed"]
    audit = subprocess.run(
        [sys.executable, "-m", "scripts.audit", "--local", live.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "Every balance matches its ledger; the credits add up to the grants." in audit.stdout
