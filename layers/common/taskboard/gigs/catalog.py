"""Gigs, a seller's standing offers: post, read, list, change, pause, resume, archive. No HTTP, no boto3."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from taskboard.accounts.store import AccountRepository, StoredAccount
from taskboard.core.clock import Clock, to_iso, utc_now
from taskboard.core.errors import (
    Conflict,
    GigNotFound,
    InvalidRequest,
    InvalidTransition,
    NotTheSeller,
    WriteConflict,
)
from taskboard.core.pagination import decode_cursor, encode_cursor
from taskboard.core.schema_check import check_output_schema
from taskboard.gigs import categories
from taskboard.gigs.models import (
    CreateGigRequest,
    Gig,
    GigList,
    SellerSummary,
    UpdateGigRequest,
)
from taskboard.gigs.store import ALL_GIGS, GigRepository, StoredGig, category_partition, seller_partition
from taskboard.reputation.models import Reputation
from taskboard.tasks.reads import is_task_id
from taskboard.tasks.writes import MAX_RACES

# GET /gigs reads at most this many index pages for one answer (a filter can leave a page short:
# the answer then says where to go on, in next_cursor).
_PAGES_PER_CALL = 3


def _rating(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


class Gigs:
    """Gigs: post, read, list, change, pause, resume, archive."""

    def __init__(self, gigs: GigRepository, accounts: AccountRepository, clock: Clock = utc_now) -> None:
        self.gigs = gigs
        self.accounts = accounts
        self.clock = clock

    def create(self, caller: str, request: CreateGigRequest) -> Gig:
        category = self._category(request.category)
        for schema in (request.input_schema, request.output_schema):
            if schema is not None:
                check_output_schema(schema)
        now = to_iso(self.clock())
        gig = StoredGig(
            id=str(uuid.uuid4()),
            seller_id=caller,
            title=request.title,
            category=category,
            price=request.price,
            delivery_days=request.delivery_days,
            revisions_included=request.revisions_included or 0,
            auto_approve_seconds=request.auto_approve_seconds or 72 * 3_600,
            created_at=now,
            updated_at=now,
            description=request.description or "",
            includes=tuple(request.includes or ()),
            requirements=request.requirements or "",
            input_schema=request.input_schema,
            output_schema=request.output_schema,
        )
        self.gigs.create(gig)
        return self.view(gig, self.accounts.get(caller))

    def get(self, gig_id: str, caller: str | None = None) -> Gig:
        """A gig with its seller's record; a paused or archived gig only to its seller."""
        gig = self.load(gig_id)
        if gig.status != "active" and caller != gig.seller_id:
            raise GigNotFound(f"No gig with id {gig_id!r}.")
        return self.view(gig, self.accounts.get(gig.seller_id))

    def load(self, gig_id: str) -> StoredGig:
        gig = self.gigs.load(gig_id) if is_task_id(gig_id) else None
        if gig is None:
            raise GigNotFound(f"No gig with id {gig_id!r}.")
        return gig

    def update(self, caller: str, gig_id: str, request: UpdateGigRequest) -> Gig:
        """The seller changes its gig's terms or status; orders already placed keep the terms they were placed at."""
        for _ in range(MAX_RACES):
            gig = self.load(gig_id)
            if gig.seller_id != caller:
                raise NotTheSeller("Only the gig's seller can change it.")
            if gig.status == "archived":
                raise InvalidTransition("This gig is archived: it can no longer change.", gig_status=gig.status)
            changes: dict[str, Any] = {
                name: getattr(request, name) for name in request.model_fields_set if getattr(request, name) is not None
            }
            if "category" in changes:
                changes["category"] = self._category(changes["category"])
            for name in ("input_schema", "output_schema"):
                if changes.get(name) is not None:
                    check_output_schema(changes[name])
            if "includes" in changes:
                changes["includes"] = tuple(changes["includes"])
            after = replace(gig, **changes, updated_at=to_iso(self.clock()), version=gig.version + 1)
            try:
                self.gigs.replace(gig, after)
            except WriteConflict:
                continue
            return self.view(after, self.accounts.get(caller))
        raise Conflict("This gig is changing too fast; try again.")

    def browse(
        self,
        *,
        category: str | None,
        seller: str | None,
        min_price: int | None,
        max_price: int | None,
        min_rating: float | None,
        limit: int,
        cursor: str | None,
        caller: str | None = None,
    ) -> GigList:
        """Active gigs, newest first: of a category (its own listing), of a seller, or all; price and rating
        filtered on the gigs read. A seller listing its own gigs sees its paused and archived ones too."""
        wanted_category = self._category(category) if category is not None else None
        if seller is not None:
            index, partition = "ByStatus", seller_partition(seller)
        elif wanted_category is not None:
            index, partition = "Available", category_partition(wanted_category)
        else:
            index, partition = "ByTag", ALL_GIGS
        after = decode_cursor(cursor)
        found: list[StoredGig] = []
        stopped: str | None = after
        for _ in range(_PAGES_PER_CALL):
            page = self.gigs.page(index, partition, limit, stopped)
            loaded = self.gigs.load_many(page.gig_ids)
            for gig_id in page.gig_ids:
                gig = loaded.get(gig_id)
                if gig is None or (gig.status != "active" and gig.seller_id != caller):
                    continue
                if wanted_category is not None and gig.category != wanted_category:
                    continue
                if (min_price is not None and gig.price < min_price) or (
                    max_price is not None and gig.price > max_price
                ):
                    continue
                rating = _rating(gig.rating_sum, gig.rating_count)
                if min_rating is not None and (rating is None or rating < min_rating):
                    continue
                found.append(gig)
            stopped = page.last_key
            if stopped is None or len(found) >= limit:
                break
        if len(found) > limit:
            found = found[:limit]
            stopped = f"{found[-1].created_at}#{found[-1].id}"
        sellers = self.accounts.get_many([gig.seller_id for gig in found])
        return GigList(
            gigs=[self.view(gig, sellers.get(gig.seller_id)) for gig in found],
            next_cursor=encode_cursor(stopped) if stopped else None,
        )

    @staticmethod
    def view(gig: StoredGig, seller: StoredAccount | None) -> Gig:
        shown = None
        if seller is not None:
            shown = SellerSummary(
                id=gig.seller_id, name=seller.account.name, record=Reputation(**seller.record.shown())
            )
        return Gig(
            id=gig.id,
            seller_id=gig.seller_id,
            seller=shown,
            title=gig.title,
            description=gig.description,
            category=gig.category,
            price=gig.price,
            delivery_days=gig.delivery_days,
            revisions_included=gig.revisions_included,
            includes=list(gig.includes),
            requirements=gig.requirements,
            input_schema=gig.input_schema,
            output_schema=gig.output_schema,
            auto_approve_seconds=gig.auto_approve_seconds,
            status=gig.status,  # type: ignore[arg-type]
            orders=gig.orders,
            rating_avg=_rating(gig.rating_sum, gig.rating_count),
            rating_count=gig.rating_count,
            created_at=gig.created_at,
            updated_at=gig.updated_at,
            version=gig.version,
        )

    @staticmethod
    def _category(reference: str) -> str:
        found = categories.find(reference)
        if found is None:
            known = ", ".join(category.slug for category in categories.categories())
            raise InvalidRequest(f"No category {reference!r}; GET /categories lists them ({known}).")
        return found.id
