"""No credit is ever created, lost or paid twice: a property test over random interleavings of the paid-task
lifecycle (post, claim, deliver, complete, reject, cancel, claim expiry, auto-complete, a review with a tip, and
"progress": the next step of a task's happy path), each step sometimes retried or sent twice at the same instant,
through the real handlers on moto.

After every step: the sum of all balances plus all escrow equals the grants made (fees sit in the platform's
fee accounts), no balance or escrow is negative, each poster's escrow is exactly the budgets of its live tasks, and
each worker's `earned` is exactly the payouts and tips in its ledger. After all of them, `make audit`
(scripts/audit.py) finds every balance explained by its ledger.

A second property test plays a sybil ring: an owner with more agents than get a grant, one of them the "main"
agent the others would feed, and two outsiders, all posting, claiming (by id, /tasks/next/claim), delivering,
completing, reviewing and tipping at random. After every step: the ring was granted no more than
GrantedAgentsPerOwner grants, no task posted inside the ring was ever claimed from inside it, every credit a
ring member received (payout or tip) and every review it got came from a task an outsider posted, and the
credits still add up to the grants."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from local.stack import Stack
from scripts.audit import audit
from taskboard.tasks.timers import TimerKind
from tests.conftest import TEST_ENVIRONMENT
from tests.integration.test_accounts import connect_agent, register_owner
from tests.support import Agent, Api, FrozenClock

GRANT = 100
LIVE = {"open", "claimed", "delivered"}

Step = tuple[str, int, int, int]  # (action, task index, budget, copies: 1 = once, 2 = retried, 3 = concurrent)
ACTIONS = ("post", "claim", "deliver", "complete", "reject", "cancel", "expire", "auto_complete", "review")
# "progress" takes a task one step along its happy path (claim, deliver or complete, whichever is next): with
# it, random plans finish work often enough to reach payouts, among all the other interleavings
WEIGHTED = ("post",) * 3 + ("progress",) * 12 + ACTIONS[1:]
steps = st.lists(
    st.tuples(
        st.sampled_from(WEIGHTED),
        st.integers(min_value=0, max_value=2),
        st.sampled_from((0, 9, 25, 40, 70)),  # unpaid, fee-free (9 x 10% rounds to 0), paid, and too dear
        st.sampled_from((1, 1, 2, 3)),
    ),
    min_size=12,
    max_size=24,
)


def scan(filter_expression: str, value: str) -> list[dict[str, Any]]:
    """Every item that matches, over all pages (a test may Scan; deployed code never does)."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": "TasksTable",
        "FilterExpression": filter_expression,
        "ExpressionAttributeValues": {":value": {"S": value}},
        "ConsistentRead": True,
    }
    while True:
        page = dynamodb.scan(**kwargs)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def accounts() -> list[dict[str, Any]]:
    return scan("sk = :value", "ACCOUNT")


def number(item: dict[str, Any], name: str) -> int:
    return int(item.get(name, {}).get("N", "0"))


class Board:
    """Two posters and two workers playing random steps, and the invariants checked after each."""

    def __init__(self, api: Api, clock: FrozenClock, agents_before: int) -> None:
        self.api, self.clock = api, clock
        self.posters = [api.new_agent(name="poster A"), api.new_agent(name="poster B")]
        self.workers = [api.new_agent(name="worker A"), api.new_agent(name="worker B")]
        self.agents = agents_before + 4
        self.tasks: list[dict[str, Any]] = []

    def task(self, index: int) -> dict[str, Any] | None:
        """The index-th task posted (a plan plays with at most three, so an index keeps meaning one task)."""
        return self.tasks[index] if index < len(self.tasks) else None

    def act(self, action: str, index: int, budget: int) -> None:
        api, task = self.api, self.task(index)
        poster = self.posters[index % 2]
        if action == "post":
            if len(self.tasks) >= 3:
                return
            made = api.post("/tasks", {"title": "p", "budget": budget, "max_attempts": 2}, key=poster.key)
            assert made.status in (201, 402, 409), made.body
            if made.status == 201:
                self.tasks.append({**made.json(), "poster": poster})
            return
        if task is None:
            return
        # each task has its worker (the other poster's tasks are the other worker's), so plans complete work
        path, owner, worker = f"/tasks/{task['id']}", task["poster"], self.workers[self.tasks.index(task) % 2]
        calls = {
            "claim": lambda: api.post(f"{path}/claim", key=worker.key),
            "deliver": lambda: api.post(f"{path}/deliver", {"result": 1}, key=worker.key),
            "complete": lambda: api.post(f"{path}/complete", key=owner.key),
            "reject": lambda: api.post(f"{path}/reject", key=owner.key),
            "cancel": lambda: api.post(f"{path}/cancel", key=owner.key),
            # the tip is a fifth of the task's budget: the plans' budgets make some tips more than is left
            "review": lambda: api.post(f"{path}/review", {"rating": 4, "tip": budget // 5}, key=owner.key),
        }
        if action == "progress":
            status = api.get(path, key=owner.key).json()["status"]
            action = {"open": "claim", "claimed": "deliver", "delivered": "complete", "completed": "review"}.get(
                status, ""
            )
        if action in calls:
            status = calls[action]().status
            assert status < 500, (action, status)
            return
        if action not in ("expire", "auto_complete"):
            return
        # the timers, fired as Step Functions would fire them once their deadline passed
        from taskboard.runtime import board

        seen = api.get(path, key=owner.key).json()
        kind, deadline = (
            (TimerKind.CLAIM_EXPIRY, seen["expires_at"])
            if action == "expire"
            else (TimerKind.AUTO_COMPLETE, seen["auto_complete_at"])
        )
        if deadline is None:
            return
        self.clock.advance(max(seen["timeout_seconds"], seen["auto_complete_seconds"]) + 1)
        board().fire_timer(kind, task["id"], max(seen["attempts"], 1), deadline)

    def check(self) -> None:
        items = accounts()
        balances = sum(number(item, "balance") for item in items)
        escrow = sum(number(item, "escrowed") for item in items)
        assert balances + escrow == GRANT * self.agents, (balances, escrow, self.agents)
        assert all(number(item, "balance") >= 0 and number(item, "escrowed") >= 0 for item in items)
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        for poster in self.posters:
            # the stored status, not the settled view: a lapsed last claim reads as failed at once, but it is
            # written (and refunded) when its expiry timer fires
            stored = [
                dynamodb.get_item(
                    TableName="TasksTable", Key={"pk": {"S": f"TASK#{task['id']}"}, "sk": {"S": "STATE"}}
                )["Item"]
                for task in self.tasks
                if task["poster"] == poster
            ]
            expected = sum(number(item, "budget") for item in stored if item["status"]["S"] in LIVE)
            assert self.api.get("/wallet", key=poster.key).json()["escrowed"] == expected
        for worker in self.workers:
            entries = self.api.get("/wallet/ledger", key=worker.key, query="limit=100").json()["entries"]
            received = sum(entry["amount"] for entry in entries if entry["type"] in ("payout", "tip"))
            assert self.api.get(f"/agents/{worker.id}").json()["earned"] == received


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_credits_are_conserved_under_random_interleavings(api: Api) -> None:
    from taskboard.runtime import board

    # a clock that stands still while the steps play: an account's ledger sorts by the count each entry was
    # written on, not by time, so entries of one instant still add up in the order the balance moved
    clock = FrozenClock()
    board().clock = clock
    runs = {"agents": 0}

    @settings(
        max_examples=6,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,  # the same interleavings on every run: CI never flakes on a new one
    )
    @given(steps)
    def play(plan: list[Step]) -> None:
        game = Board(api, clock, runs["agents"])
        runs["agents"] = game.agents
        for action, index, budget, copies in plan:
            if copies == 3:  # the same request twice at the same instant
                with ThreadPoolExecutor(max_workers=2) as pool:
                    list(pool.map(lambda step: game.act(*step), [(action, index, budget)] * 2))
            else:  # once, or retried after its answer
                for _ in range(copies):
                    game.act(action, index, budget)
            game.check()

    play()
    assert runs["agents"] >= 4 * 6  # every example played
    # and the plans reached every kind of movement, so the invariants were tested where money moves
    kinds = {item["type"]["S"] for item in scan("begins_with(sk, :value)", "LEDGER#")}
    assert kinds == {"grant", "escrow", "payout", "fee", "refund", "tip"}, kinds
    # and `make audit` finds every balance explained by its ledger, every escrow by a live task
    report = audit(boto3.client("dynamodb", region_name="us-east-1"), "TasksTable")
    assert report.ok, report.differences
    assert report.grants == GRANT * runs["agents"]


# ---- a sybil ring --------------------------------------------------------------------------------------------

CAP = 5  # GrantedAgentsPerOwner's default
RING_AGENTS = CAP + 1  # the main agent and five sybils: the last is connected past the cap, with no grant
MAIN = 1  # the ring's main agent, which its sybils would feed (0 is the owner itself)
OUTSIDERS = 2
RingStep = tuple[str, int, int, int, int]  # (action, actor, task index, amount, copies)
# "farm" replays what was found in issue 13: the actor posts a task (a tag of its own), the main agent tries to
# take it by id and through /tasks/next/claim, and the actor would complete and tip it
RING_ACTIONS = ("post", "farm", "claim", "claim_next", "next", "deliver", "complete", "review")
ring_steps = st.lists(
    st.tuples(
        st.sampled_from(("post",) * 4 + ("farm",) * 2 + ("progress",) * 12 + RING_ACTIONS[2:] + ("claim",) * 2),
        st.integers(min_value=0, max_value=RING_AGENTS + OUTSIDERS),  # the owner, its agents, the outsiders
        st.integers(min_value=0, max_value=3),
        st.sampled_from((0, 9, 25, 40)),
        st.sampled_from((1, 1, 2, 3)),
    ),
    min_size=12,
    max_size=20,
)


class Ring:
    """An owner, its agents (MAIN is the main agent) and two outsiders, each acting at random."""

    def __init__(self, api: Api) -> None:
        self.api = api
        owner = register_owner(api, "sybil owner")
        self.ring = [owner, *(connect_agent(api, owner, f"ring-{n}") for n in range(RING_AGENTS))]
        self.outsiders = [api.new_agent(name=f"outsider {n}") for n in range(OUTSIDERS)]
        self.everyone = [*self.ring, *self.outsiders]
        self.members = {agent.id for agent in self.ring}
        self.tag = "ring"
        self.grants = (CAP + OUTSIDERS) * GRANT
        self.tasks: list[dict[str, Any]] = []  # {"id", "poster"}: at most four, so an index keeps its meaning
        self.refused = 0  # claims refused as same_owner: the plans did try to work inside the ring
        # every plan starts with two paid tasks under way: the main agent's, claimed by an outsider, and an
        # outsider's, claimed by a sybil (work across the ring's edge is allowed, both ways)
        for poster, worker in ((self.ring[MAIN], self.outsiders[1]), (self.outsiders[0], self.ring[MAIN + 1])):
            seeded = self.post(poster, 25, self.tag)
            assert seeded is not None and api.post(f"/tasks/{seeded['id']}/claim", key=worker.key).status == 200
            self.tasks.append(seeded)

    def inside(self, one: str, other: str) -> bool:
        return one in self.members and other in self.members

    def post(self, poster: Agent, budget: int, tag: str) -> dict[str, Any] | None:
        made = self.api.post("/tasks", {"title": "r", "budget": budget, "tags": [tag]}, key=poster.key)
        assert made.status in (201, 402, 409), made.body
        return {"id": made.json()["id"], "poster": poster} if made.status == 201 else None

    def claim(self, task: dict[str, Any], worker: Agent) -> None:
        """A claim by id: refused inside the ring, whatever the task's state."""
        claimed = self.api.post(f"/tasks/{task['id']}/claim", key=worker.key)
        if worker.id == task["poster"].id:
            assert claimed.status == 403 and claimed.json()["code"] == "own_task"
        elif self.inside(worker.id, task["poster"].id):
            assert claimed.status == 403 and claimed.json()["code"] == "same_owner", claimed.body
            self.refused += 1
        else:
            assert claimed.status in (200, 409), claimed.body

    def find(self, worker: Agent, tag: str, claim: bool) -> None:
        """/tasks/next or /tasks/next/claim: never a task of the worker's own party (or its own)."""
        query = f"skills={tag}&timeout=0"
        if claim:
            answer = self.api.post("/tasks/next/claim", key=worker.key, query=query)
        else:
            answer = self.api.get("/tasks/next", key=worker.key, query=query)
        assert answer.status == 200, answer.body
        offered = answer.json()["task"]
        assert offered is None or not self.inside(offered["poster_id"], worker.id), offered
        assert offered is None or offered["poster_id"] != worker.id

    def act(self, action: str, actor_index: int, index: int, amount: int) -> None:
        api, actor = self.api, self.everyone[actor_index % len(self.everyone)]
        if action == "post":
            made = self.post(actor, amount, self.tag) if len(self.tasks) < 4 else None
            self.tasks += [made] if made else []
            return
        if action == "farm":
            main, tag = self.ring[MAIN], f"{self.tag}-farm-{actor_index}"
            task = self.post(actor, amount, tag)
            if task is not None:
                self.claim(task, main)
                self.find(main, tag, claim=True)
                self.find(main, tag, claim=False)
                for then in ("complete", "review"):  # nothing to complete: the main agent never held it
                    body = {"rating": 5, "tip": amount} if then == "review" else None
                    assert api.post(f"/tasks/{task['id']}/{then}", body, key=actor.key).status in (403, 409)
            return
        if action in ("next", "claim_next"):
            self.find(actor, self.tag, claim=action == "claim_next")
            return
        task = self.tasks[index] if index < len(self.tasks) else None
        if task is None:
            return
        path, poster = f"/tasks/{task['id']}", task["poster"]
        seen = api.get(path, key=poster.key).json()
        if action == "progress":
            action = {"open": "claim", "claimed": "deliver", "delivered": "complete", "completed": "review"}.get(
                seen["status"], ""
            )
            if action == "claim" and (actor.id == poster.id or self.inside(actor.id, poster.id)):
                self.claim(task, actor)  # refused: the happy path goes on with someone who may take the task
                actor = next(agent for agent in self.outsiders if agent.id != poster.id)
        if action == "claim":
            self.claim(task, actor)
        elif action == "deliver" and seen["claimed_by"]:
            worker = next(agent for agent in self.everyone if agent.id == seen["claimed_by"])
            assert api.post(f"{path}/deliver", {"result": 1}, key=worker.key).status in (200, 409)
        elif action == "complete":
            assert api.post(f"{path}/complete", key=poster.key).status in (200, 409)
        elif action == "review":
            reviewed = api.post(f"{path}/review", {"rating": 5, "tip": amount}, key=poster.key)
            assert reviewed.status in (201, 402, 409), reviewed.body

    def check(self) -> None:
        items = whole_table()
        by_sk: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_sk.setdefault(item["sk"]["S"].split("#", 1)[0], []).append(item)
        accounts = {item["pk"]["S"].removeprefix("ACCOUNT#"): item for item in by_sk.get("ACCOUNT", [])}
        balances = sum(number(item, "balance") for item in accounts.values())
        escrow = sum(number(item, "escrowed") for item in accounts.values())
        assert balances + escrow == self.grants, (balances, escrow, self.grants)
        assert all(number(item, "balance") >= 0 and number(item, "escrowed") >= 0 for item in accounts.values())
        ledger = [
            entry for entry in by_sk.get("LEDGER", []) if entry["pk"]["S"].removeprefix("ACCOUNT#") in self.members
        ]
        # the ring got CAP grants, however many agents its owner connected
        assert sum(number(entry, "amount") for entry in ledger if entry["type"]["S"] == "grant") == CAP * GRANT
        states = {item["pk"]["S"].removeprefix("TASK#"): item for item in by_sk.get("STATE", [])}
        for state in states.values():  # no task posted inside the ring was ever claimed from inside it
            workers = [state["claimed_by"]["S"]] if "claimed_by" in state else []
            workers += [worker["S"] for worker in state.get("past_workers", {}).get("L", [])]
            assert not any(self.inside(worker, state["poster_id"]["S"]) for worker in workers), state
        # every credit a ring member received came from a task an outsider posted, and `earned` is those credits
        earned: dict[str, int] = dict.fromkeys(self.members, 0)
        for entry in ledger:
            if entry["type"]["S"] in ("payout", "tip") and number(entry, "amount") > 0:
                assert states[entry["task_id"]["S"]]["poster_id"]["S"] not in self.members, entry
                earned[entry["pk"]["S"].removeprefix("ACCOUNT#")] += number(entry, "amount")
        assert {member: number(accounts[member], "earned") for member in self.members} == earned
        # and so did every review it got: its rating is the outsiders' word only
        reviews = by_sk.get("REVIEW", [])  # the reviews beside their tasks (the scan leaves the workers' copies out)
        assert not any(self.inside(item["poster_id"]["S"], item["worker_id"]["S"]) for item in reviews)
        for member in self.members:
            got = [item for item in reviews if item["worker_id"]["S"] == member]
            assert number(accounts[member], "rating_count") == len(got)
            assert number(accounts[member], "rating_sum") == sum(number(item, "rating") for item in got)


def whole_table() -> list[dict[str, Any]]:
    """The accounts, ledger entries, task states and reviews of the example's own small table, in one Scan."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    found: list[dict[str, Any]] = []
    attributes = "pk sk balance escrowed earned rating_count rating_sum type amount task_id poster_id claimed_by"
    names = {f"#{name}": name for name in (*attributes.split(), "past_workers", "worker_id", "rating")}
    kwargs: dict[str, Any] = {
        "TableName": "TasksTable",
        "ConsistentRead": True,
        "FilterExpression": "sk IN (:account, :state, :review) OR begins_with(sk, :ledger)",
        "ExpressionAttributeValues": {
            ":account": {"S": "ACCOUNT"},
            ":state": {"S": "STATE"},
            ":review": {"S": "REVIEW"},
            ":ledger": {"S": "LEDGER#"},
        },
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
    }
    while True:
        page = dynamodb.scan(**kwargs)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_sybil_ring_gains_nothing_from_inside_itself() -> None:
    runs = {"rings": 0, "refused": 0, "paid_in": 0, "paid_out": 0}

    @settings(
        max_examples=6,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
    )
    @given(ring_steps)
    def play(plan: list[RingStep]) -> None:
        # a board of its own for each example: its checks read the whole (small) table after every step
        with Stack(environment=TEST_ENVIRONMENT) as stack:
            stack.stop_pollers()  # no timers or webhooks here: nothing competes with the plan for the table
            ring = Ring(Api(stack))
            for action, actor, index, amount, copies in plan:
                if copies == 3:  # the same request twice at the same instant
                    with ThreadPoolExecutor(max_workers=2) as pool:
                        list(pool.map(lambda step: ring.act(*step), [(action, actor, index, amount)] * 2))
                else:
                    for _ in range(copies):
                        ring.act(action, actor, index, amount)
                ring.check()
            # and `make audit` finds nothing out of place
            report = audit(boto3.client("dynamodb", region_name="us-east-1"), "TasksTable")
            assert report.ok, report.differences
            assert report.grants == ring.grants
            ledger = scan("begins_with(sk, :value)", "LEDGER#")
        runs["rings"] += 1
        runs["refused"] += ring.refused
        for entry in ledger:
            if entry["type"]["S"] in ("payout", "tip") and number(entry, "amount") > 0:
                into_ring = entry["pk"]["S"].removeprefix("ACCOUNT#") in ring.members
                runs["paid_in" if into_ring else "paid_out"] += 1

    play()
    assert runs["rings"] >= 6 and runs["refused"] > 0  # every example played, and the rings did try
    # and credits did move between the ring and the outsiders, both ways, as payouts or tips
    assert runs["paid_in"] > 0 and runs["paid_out"] > 0, runs


# ---- orders --------------------------------------------------------------------------------------------------

ORDER_LIVE = {"pending", "in_progress", "delivered", "disputed"}
RESOLVED: list[str] = []  # how the orders of every plan ended by a call: approve, decline, cancel, or a resolution
ORDER_ACTIONS = (
    "order",
    "start",
    "decline",
    "deliver",
    "approve",
    "revision",
    "cancel",
    "late_cancel",
    "dispute",
    "resolve",
    "auto_approve",
    "review",
)
order_steps = st.lists(
    st.tuples(
        st.sampled_from(("order",) * 3 + ("progress",) * 10 + ORDER_ACTIONS[1:]),
        st.integers(min_value=0, max_value=2),
        # paid (hypothesis starts from the first), fee-free, free, and more than a buyer may have left
        st.sampled_from((25, 9, 0, 40, 70)),
        st.sampled_from((1, 1, 2, 3)),
    ),
    min_size=12,
    max_size=24,
)


class Market:
    """Two buyers ordering the gigs of two sellers, an operator settling disputes, and the invariants."""

    def __init__(self, api: Api, stack: Stack, clock: FrozenClock, agents_before: int) -> None:
        self.api, self.clock = api, clock
        self.buyers = [api.new_agent(name="buyer A"), api.new_agent(name="buyer B")]
        self.sellers = [api.new_agent(name="seller A"), api.new_agent(name="seller B")]
        self.operator = stack.operator_key()[0]
        self.agents = agents_before + 4
        self.orders: list[dict[str, Any]] = []

    def act(self, action: str, index: int, amount: int) -> None:
        api = self.api
        if action == "order":
            if len(self.orders) >= 3:
                return
            buyer, seller = self.buyers[len(self.orders) % 2], self.sellers[len(self.orders) % 2]
            gig = {"title": "g", "category": "coding", "price": amount, "delivery_days": 1, "revisions_included": 1}
            made_gig = api.post("/gigs", gig, key=seller.key)
            assert made_gig.status == 201, made_gig.body
            placed = api.post("/orders", {"gig_id": made_gig.json()["id"]}, key=buyer.key)
            assert placed.status in (201, 402, 409), placed.body
            if placed.status == 201:
                self.orders.append({**placed.json(), "buyer": buyer, "seller": seller})
            return
        if index >= len(self.orders):
            return
        order = self.orders[index]
        path, buyer, seller = f"/orders/{order['id']}", order["buyer"], order["seller"]
        half = order["price"] // 2
        split = {"outcome": "split", "buyer_amount": half, "seller_amount": order["price"] - half, "note": "n"}
        outcome = ("split", "refund", "pay")[(amount + index) % 3]
        if outcome == "split" and not 0 < half < order["price"]:
            outcome = "refund"
        resolution = split if outcome == "split" else {"outcome": outcome, "note": "n"}
        calls = {
            "start": lambda: api.post(f"{path}/start", key=seller.key),
            "decline": lambda: api.post(f"{path}/decline", key=seller.key),
            "deliver": lambda: api.post(f"{path}/deliver", {"message": "m"}, key=seller.key),
            "approve": lambda: api.post(f"{path}/approve", key=buyer.key),
            "revision": lambda: api.post(f"{path}/revision", {"feedback": "f"}, key=buyer.key),
            "cancel": lambda: api.post(f"{path}/cancel", key=buyer.key),
            "dispute": lambda: api.post(f"{path}/dispute", {"reason": "r"}, key=(buyer, seller)[amount % 2].key),
            "resolve": lambda: api.post(f"{path}/resolve", resolution, key=self.operator),
            "review": lambda: api.post(f"{path}/review", {"rating": 3, "tip": amount // 5}, key=buyer.key),
        }
        if action == "progress":
            status = api.get(path, key=buyer.key).json()["status"]
            action = {
                "pending": "start",
                "in_progress": "deliver",
                "delivered": "approve",
                "disputed": "resolve",
                "completed": "review",
            }.get(status, "")
        if action == "late_cancel":  # the seller's day to deliver passes: the buyer may cancel, refunded
            self.clock.advance(86_401)
            action = "cancel"
        if action in calls:
            response = calls[action]()
            assert response.status < 500, (action, response.status)
            if response.status == 200 and action in ("resolve", "approve", "decline", "cancel"):
                RESOLVED.append((response.json().get("resolution") or {}).get("outcome") or action)
            return
        if action == "auto_approve":
            from taskboard.runtime import board

            seen = api.get(path, key=buyer.key).json()
            if seen["auto_approve_at"] is None:
                return
            self.clock.advance(seen["auto_approve_seconds"] + 1)
            board().fire_timer(TimerKind.AUTO_COMPLETE, order["id"], 1, seen["auto_approve_at"])

    def check(self) -> None:
        items = accounts()
        balances = sum(number(item, "balance") for item in items)
        escrow = sum(number(item, "escrowed") for item in items)
        assert balances + escrow == GRANT * self.agents, (balances, escrow, self.agents)
        assert all(number(item, "balance") >= 0 and number(item, "escrowed") >= 0 for item in items)
        for buyer in self.buyers:
            mine = [o for o in self.orders if o["buyer"] == buyer]
            live = [self.api.get(f"/orders/{o['id']}", key=buyer.key).json() for o in mine]
            expected = sum(order["price"] for order in live if order["status"] in ORDER_LIVE)
            assert self.api.get("/wallet", key=buyer.key).json()["escrowed"] == expected


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_credits_are_conserved_under_random_orders_revisions_disputes_and_resolutions(api: Api, stack: Stack) -> None:
    from taskboard.runtime import board, gigs, order_book

    clock = FrozenClock()
    board().clock = order_book().clock = gigs().clock = clock
    runs = {"agents": 0}

    @settings(
        max_examples=6,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
    )
    @given(order_steps)
    # besides the random plans, two that reach every ending: the operator's split, refund and pay (of orders in
    # progress and delivered), a decline, a cancellation on time and one late, a revision, an approval retried
    @example(
        [
            ("order", 0, 25, 1),
            ("order", 0, 9, 1),
            ("order", 0, 40, 1),
            *[("start", 0, 0, 1), ("deliver", 0, 0, 1), ("dispute", 0, 0, 1), ("resolve", 0, 0, 3)],
            *[("start", 1, 0, 1), ("deliver", 1, 0, 1), ("dispute", 1, 1, 1), ("resolve", 1, 0, 1)],
            *[("start", 2, 0, 1), ("dispute", 2, 0, 1), ("resolve", 2, 0, 2)],
        ]
    )
    @example(
        [
            ("order", 0, 25, 1),
            ("order", 0, 25, 1),
            ("order", 0, 9, 1),
            ("decline", 0, 0, 1),
            *[("start", 1, 0, 1), ("cancel", 1, 0, 1), ("late_cancel", 1, 0, 3)],  # refused on time, then late
            *[("start", 2, 0, 1), ("deliver", 2, 0, 1), ("revision", 2, 0, 1), ("deliver", 2, 0, 1)],
            *[("approve", 2, 0, 2), ("review", 2, 25, 3)],
        ]
    )
    def play(plan: list[Step]) -> None:
        game = Market(api, stack, clock, runs["agents"])
        runs["agents"] = game.agents
        for action, index, amount, copies in plan:
            if copies == 3:  # the same request twice at the same instant
                with ThreadPoolExecutor(max_workers=2) as pool:
                    list(pool.map(lambda step: game.act(*step), [(action, index, amount)] * 2))
            else:
                for _ in range(copies):
                    game.act(action, index, amount)
            game.check()

    play()
    assert runs["agents"] >= 4 * 6
    # the plans reached every ending: approved, declined, cancelled, and each of the operator's resolutions
    assert {"approve", "decline", "cancel", "split", "refund", "pay"} <= set(RESOLVED), RESOLVED
    kinds = {item["type"]["S"] for item in scan("begins_with(sk, :value)", "LEDGER#")}
    assert {"escrow", "payout", "fee", "refund"} <= kinds, kinds
    report = audit(boto3.client("dynamodb", region_name="us-east-1"), "TasksTable")
    assert report.ok, report.differences
    assert report.grants == GRANT * runs["agents"]
