"""Orders of gigs: the task board with the order's rules. No HTTP, no boto3.

An order is a task of kind "order" (taskboard.tasks.orders has its rules): OrderBook is the task board's
read-decide-write (taskboard.tasks.writes) with those rules plugged in, so an order is escrowed, paid, refunded,
numbered, timed (its auto-approve is a task's auto-complete deadline) and recorded exactly as a task is."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from taskboard.core.errors import (
    Conflict,
    GigNotFound,
    GigNotOrderable,
    OperatorsOnly,
    OrderNotFound,
    OwnGig,
    ResultInvalid,
    WriteConflict,
)
from taskboard.core.pagination import decode_cursor, decode_scan, encode_cursor, encode_scan
from taskboard.core.schema_check import result_errors
from taskboard.gigs.models import (
    Approved,
    CreateOrderRequest,
    DisputeList,
    OpenDispute,
    Order,
    OrderDeliverRequest,
    OrderDelivery,
    OrderList,
)
from taskboard.gigs.store import GigRepository
from taskboard.money.rules import fee_of
from taskboard.tasks import contributions, lifecycle, orders
from taskboard.tasks.items import BUYER_PREFIX, DISPUTES, SELLER_PREFIX, Change, Delivery, StoredTask, TaskBody
from taskboard.tasks.lifecycle import Status, TaskState
from taskboard.tasks.models import ResolveRequest
from taskboard.tasks.reads import Owns, is_task_id, review_view
from taskboard.tasks.service import TaskBoard
from taskboard.tasks.writes import MAX_RACES, Decision

OPERATOR = "operator"
# GET /orders reads at most this many index pages for one answer (a filter can leave a page short:
# the answer then says where to go on, in next_cursor).
_PAGES_PER_CALL = 3
# GET /orders' cursor holds a position per side: before everything (no more), or after nothing (from the newest)
_DONE = "0000-00-00T00:00:00.000000Z#00000000-0000-0000-0000-000000000000"
_NEWEST = "9999-12-31T23:59:59.999999Z#ffffffff-ffff-ffff-ffff-ffffffffffff"


class OrderBook(TaskBoard):
    """Orders: the task board's machinery with the order's rules (taskboard.tasks.orders)."""

    def __init__(self, *args: Any, gigs: GigRepository, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gigs = gigs  # the gigs' items only: an order function loads no categories and no accounts' models

    # ---- placing ----------------------------------------------------------------------------------------------

    def place(self, caller: str, request: CreateOrderRequest, owner: str | None = None) -> Order:
        """Order a gig: its price escrowed from the buyer's balance (402 if short), the seller told (order.created).
        The gig's order count moves in the same transaction, on the condition that the gig is still active at
        the price read; a gig paused meanwhile answers 409 gig_not_orderable."""
        for _ in range(MAX_RACES):
            gig = self.gigs.load(request.gig_id) if is_task_id(request.gig_id) else None
            if gig is None:
                raise GigNotFound(f"No gig with id {request.gig_id!r}.")
            if gig.status != "active":
                raise GigNotOrderable(f"This gig is {gig.status}: it takes no orders.", gig_status=gig.status)
            if gig.seller_id == caller:
                raise OwnGig("This is your own gig; another agent has to order it.")
            buyer_owner = owner or self._owner_of(caller)
            lifecycle.check_parties(buyer_owner, self._owner_of(gig.seller_id))
            if gig.input_schema is not None:
                errors = result_errors(gig.input_schema, request.input)
                if errors:
                    raise ResultInvalid(
                        "Input does not match the gig's input_schema",
                        validation_errors=errors,
                        expected_schema=gig.input_schema,
                    )
            now = self.clock()
            state = orders.place(
                order_id=str(uuid.uuid4()),
                gig_id=gig.id,
                title=gig.title,
                buyer=caller,
                buyer_owner=buyer_owner,
                seller=gig.seller_id,
                price=gig.price,
                delivery_days=gig.delivery_days,
                revisions_included=gig.revisions_included,
                auto_approve_seconds=gig.auto_approve_seconds,
                now=now,
            )
            body = TaskBody(description=request.requirements, input=request.input, output_schema=gig.output_schema)
            state, events = self._record(None, state, now, found=orders.EVENTS["place"])
            change = Change(
                None,
                state,
                tuple(events),
                contributions.of_change(None, state, (), self._fee_percent),
                body=body,
                items=(self.gigs.order_placed(gig),),
            )
            try:
                self._commit(change, now)
            except WriteConflict:
                continue  # a balance or the gig moved: read both again
            return self.order_view(StoredTask(state, body), caller, now, "buyer")
        raise Conflict("Your balance or this gig is changing too fast; try again.")

    # ---- the seller's side, the buyer's, either's ---------------------------------------------------------

    def start(self, order_id: str, caller: str) -> Order:
        return self._order_change(order_id, caller, "start", lambda s, now: orders.start(s, caller, now))

    def decline(self, order_id: str, caller: str, reason: str | None) -> Order:
        return self._order_change(order_id, caller, "decline", lambda s, now: orders.decline(s, caller, now, reason))

    def approve(self, order_id: str, caller: str) -> Approved:
        order = self._order_change(order_id, caller, "approve", lambda s, now: orders.approve(s, caller, now))
        fee = fee_of(order.price, self._fee_percent)
        return Approved(
            order=order, payment={"total": order.price, "platform_fee": fee, "seller_received": order.price - fee}
        )

    def revision(self, order_id: str, caller: str, feedback: str) -> Order:
        return self._order_change(
            order_id, caller, "revision", lambda s, now: orders.revision(s, caller, now, feedback)
        )

    def cancel_order(self, order_id: str, caller: str, reason: str | None) -> Order:
        return self._order_change(order_id, caller, "cancel", lambda s, now: orders.cancel(s, caller, now, reason))

    def dispute_order(self, order_id: str, caller: str, reason: str) -> Order:
        return self._order_change(order_id, caller, "dispute", lambda s, now: orders.dispute(s, caller, now, reason))

    def resolve_order(self, order_id: str, operator: str, role: str, request: ResolveRequest) -> Order:
        """The operator settles a dispute; its amounts must sum to the escrow."""
        if role != OPERATOR:
            raise OperatorsOnly("Only the deployment's operator can resolve a dispute.")

        def decide(state: TaskState, now: datetime) -> TaskState:
            orders.check_split(state, request.outcome, request.buyer_amount, request.seller_amount)
            return orders.resolve(state, operator, now, request.outcome, request.buyer_amount, request.note)

        return self._order_change(order_id, operator, "resolve", decide, viewer_role=OPERATOR)

    def deliver_order(self, order_id: str, caller: str, request: OrderDeliverRequest) -> Order:
        """The seller delivers its message (and result, checked against the gig's output_schema: 422)."""
        checked: list[list[str]] = []
        given = "result" in request.model_fields_set and request.result is not None

        def decide(stored: StoredTask, now: datetime) -> Decision:
            state = stored.state
            orders.check_seller(state, caller)
            schema = stored.body.output_schema
            if state.status is Status.IN_PROGRESS and schema is not None and not checked:
                checked.append(result_errors(schema, request.result) if given else ["$: a result is required"])
            errors = checked[0] if checked else []
            if errors:
                raise ResultInvalid(
                    "Result does not match the gig's output_schema", validation_errors=errors, expected_schema=schema
                )
            after = orders.deliver(state, caller, now)
            delivery = Delivery(
                after.attempts, caller, request.result, None, request.message, tuple(request.attachments)
            )
            return Decision(after, delivery=delivery, events=orders.EVENTS["deliver"])

        changed = self._apply(order_id, decide, Conflict("The order changed while delivering; read it again."))
        assert changed is not None
        return self.order_view(changed[0], caller, changed[1])

    # ---- reads --------------------------------------------------------------------------------------------

    def order(self, order_id: str, caller: str, role: str, owns: Owns | None = None) -> Order:
        """One order, to its two parties and their owners (and, once disputed, the operator); anyone else 404 (as
        if there were none)."""
        stored = self._load(order_id)
        viewer = self._viewer(stored.state, caller, role, owns)
        if viewer is None:
            raise OrderNotFound(f"No order with id {order_id!r}.")
        return self.order_view(stored, caller, self.clock(), viewer)

    def mine(self, caller: str, role: str, status: str | None, limit: int, cursor: str | None) -> OrderList:
        """The caller's orders as buyer, seller or both, newest first; `status` filtered on the orders read (a
        page may hold fewer than `limit`: next_cursor goes on). At most _PAGES_PER_CALL index pages per side."""
        sides = {"buyer": ("ByTag", BUYER_PREFIX), "seller": ("ByStatus", SELLER_PREFIX)}
        wanted = ("buyer", "seller") if role == "both" else (role,)
        positions = decode_scan(cursor, wanted) if cursor else dict.fromkeys(wanted, _NEWEST)
        found: list[StoredTask] = []
        now = self.clock()
        for _ in range(_PAGES_PER_CALL):
            pages = {}
            for side in wanted:
                if positions[side] != _DONE:
                    index, prefix = sides[side]
                    pages[side] = self.tasks.listing_page(
                        index, prefix + caller, limit=limit, ascending=False, after=positions[side]
                    )
            merged = sorted(((key, side) for side, page in pages.items() for key in page.sort_keys), reverse=True)
            merged = merged[:limit]  # the newest `limit` of both sides; the rest is read again next time
            for side, page in pages.items():
                taken = [key for key, taken_from in merged if taken_from == side]
                if len(taken) == len(page.sort_keys) and not page.more:
                    positions[side] = _DONE
                elif taken:
                    positions[side] = taken[-1]
            loaded = self.tasks.load_many([key.rsplit("#", 1)[1] for key, _ in merged])
            for key, _side in merged:
                stored = loaded.get(key.rsplit("#", 1)[1])
                if stored is None or not orders.is_order(stored.state):
                    continue
                if status is None or str(stored.state.status) == status:
                    found.append(stored)
            if len(found) >= limit or all(positions[side] == _DONE for side in wanted):
                break
        more = not all(positions[side] == _DONE for side in wanted)
        return OrderList(
            orders=[self.order_view(item, caller, now, self._viewer(item.state, caller, "agent")) for item in found],
            next_cursor=encode_scan(positions) if more else None,
        )

    def disputes(self, role: str, limit: int, cursor: str | None) -> DisputeList:
        """The open disputes of tasks and orders, oldest first (the operator's queue), each with what was
        delivered: one Query of the DISPUTES partition and one BatchGetItem."""
        if role != OPERATOR:
            raise OperatorsOnly("Only the deployment's operator can list disputes.")
        page = self.tasks.listing_page("Available", DISPUTES, limit=limit, ascending=True, after=decode_cursor(cursor))
        ids = [key.rsplit("#", 1)[1] for key in page.sort_keys]
        loaded = self.tasks.load_many(ids, deliveries=True)
        now = self.clock()
        shown = []
        for stored in (loaded[task_id] for task_id in ids if task_id in loaded):
            if stored.state.status is not Status.DISPUTED:
                continue  # settled since the index was read
            if orders.is_order(stored.state):
                shown.append(OpenDispute(kind="order", order=self.order_view(stored, None, now, OPERATOR)))
            else:  # the operator judges the result: shown as to a party
                shown.append(
                    OpenDispute(kind="task", task=self._view(stored, OPERATOR, now, owns=lambda account: True))
                )
        resume = page.resume_after if page.more else None
        return DisputeList(disputes=shown, next_cursor=encode_cursor(resume) if resume else None)

    # ---- mechanics ----------------------------------------------------------------------------------------

    def _load(self, task_id: str) -> StoredTask:
        """The order, or OrderNotFound (a task is not an order)."""
        stored = self.tasks.load(task_id) if is_task_id(task_id) else None
        if stored is None or not orders.is_order(stored.state):
            raise OrderNotFound(f"No order with id {task_id!r}.")
        return stored

    def _check_reviewer(self, state: TaskState, caller: str) -> None:
        orders.check_buyer(state, caller)  # the buyer rates the seller, once (TaskBoard.review)

    def _review_items(self, state: TaskState, rating: int) -> tuple[dict[str, Any], ...]:
        return (self.gigs.rated(state.gig_id, rating),) if state.gig_id else ()

    def _order_change(
        self,
        order_id: str,
        caller: str,
        rule: str,
        decide: Callable[[TaskState, datetime], TaskState],
        viewer_role: str | None = None,
    ) -> Order:
        """One order rule through the task board's read-decide-write, with the rule's events (a dispute's cause:
        who opened it)."""

        def decision(stored: StoredTask, now: datetime) -> Decision:
            events = orders.EVENTS[rule]
            if rule == "dispute":
                cause = "seller" if caller == stored.state.claimed_by else "buyer"
                events = tuple(replace(event, cause=cause) for event in events)
            return Decision(decide(stored.state, now), events=events)

        changed = self._apply(order_id, decision, Conflict("The order is changing too fast; try again."))
        assert changed is not None
        stored, now = changed
        return self.order_view(stored, caller, now, viewer_role or self._viewer(stored.state, caller, "agent"))

    @staticmethod
    def _viewer(state: TaskState, caller: str | None, role: str, owns: Owns | None = None) -> str | None:
        if caller == state.poster_id:
            return "buyer"
        if caller == state.claimed_by:
            return "seller"
        if role == OPERATOR and state.disputed_at is not None:  # an order it was asked to settle, and no other
            return OPERATOR
        if owns is not None and (owns(state.poster_id) or (state.claimed_by is not None and owns(state.claimed_by))):
            return "owner"
        return None

    def order_view(self, stored: StoredTask, caller: str | None, now: datetime, viewer: str | None = None) -> Order:
        """The order as its parties (and their owners, and the operator) see it: with requirements, input and
        delivery. Nobody else is shown an order."""
        shown = orders.summary(stored.state, now)
        delivery = stored.delivery
        return Order(
            **shown,  # type: ignore[arg-type]
            my_role=viewer,  # type: ignore[arg-type]
            requirements=stored.body.description,
            input=stored.body.input,
            output_schema=stored.body.output_schema,
            delivery=OrderDelivery(
                message=delivery.message, result=delivery.result, attachments=list(delivery.attachments)
            )
            if delivery is not None
            else None,
            review=review_view(stored.state.id, stored.review) if stored.review else None,
        )
