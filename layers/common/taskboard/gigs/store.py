"""DynamoDB storage of gigs: the only module that knows their items.

One partition per gig (pk = GIG#<id>):
  sk GIG    its terms, status and counters (small: an order's transaction updates it), written with
            `version = :read_version`; its listings are its own keys in the task listing indexes, under
            partitions no tag can name (a tag is lower case):
    ByTag      (all_pk=GIGS, all_sk=<created>#<id>)             every active gig
    Available  (avail_pk=GIGS#<category>, avail_sk=<created>#<id>) the active gigs of a category
    ByStatus   (status_pk=GIGS#SELLER#<seller>, status_sk=...)  every gig of a seller, whatever its status
  sk BODY   description, includes, requirements, input_schema, output_schema (rewritten only when they change)
An order placed on a gig adds 1 to its `orders` in the order's own transaction, on the condition that the gig is
still active at the price the order was decided on; a review of an order adds its rating the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from taskboard.core import codec, keys
from taskboard.core.aws import TableAccess
from taskboard.core.errors import WriteConflict

ALL_GIGS = "GIGS"
GIG_FIELDS = (
    "id",
    "seller_id",
    "title",
    "category",
    "price",
    "delivery_days",
    "revisions_included",
    "auto_approve_seconds",
    "status",
    "orders",
    "rating_sum",
    "rating_count",
    "created_at",
    "updated_at",
    "version",
)
INDEXES = {"ByTag": ("all_pk", "all_sk"), "Available": ("avail_pk", "avail_sk"), "ByStatus": ("status_pk", "status_sk")}


@dataclass(frozen=True)
class StoredGig:
    id: str
    seller_id: str
    title: str
    category: str
    price: int
    delivery_days: int
    revisions_included: int
    auto_approve_seconds: int
    created_at: str
    updated_at: str
    status: str = "active"
    orders: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    version: int = 1
    description: str = ""
    includes: tuple[str, ...] = ()
    requirements: str = ""
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None


BODY_FIELDS = ("description", "includes", "requirements", "input_schema", "output_schema")


def category_partition(category: str) -> str:
    return f"{ALL_GIGS}#{category}"


def seller_partition(seller_id: str) -> str:
    return f"{ALL_GIGS}#SELLER#{seller_id}"


def gig_item(gig: StoredGig) -> dict[str, Any]:
    created = f"{gig.created_at}#{gig.id}"
    values: dict[str, Any] = {name: getattr(gig, name) for name in GIG_FIELDS}
    values |= {"status_pk": seller_partition(gig.seller_id), "status_sk": created}
    if gig.status == "active":
        values |= {"all_pk": ALL_GIGS, "all_sk": created, "avail_pk": category_partition(gig.category)}
        values |= {"avail_sk": created}
    return {**keys.in_gig(gig.id, "GIG"), **codec.item(**values)}


def body_item(gig: StoredGig) -> dict[str, Any]:
    return {
        **keys.in_gig(gig.id, "BODY"),
        **codec.item(
            description=gig.description,
            includes=list(gig.includes),
            requirements=gig.requirements,
            input_schema=json.dumps(gig.input_schema),
            output_schema=json.dumps(gig.output_schema),
        ),
    }


def _gig_from(items: Iterable[dict[str, Any]]) -> StoredGig | None:
    by_sort = {item["sk"]["S"]: item for item in items}
    head, body = by_sort.get("GIG"), by_sort.get("BODY")
    if head is None or body is None:
        return None
    known = {f.name for f in fields(StoredGig)}
    values = {name: codec.plain(attr) for name, attr in head.items() if name in GIG_FIELDS and name in known}
    return StoredGig(
        **values,
        description=body.get("description", {}).get("S", ""),
        includes=tuple(codec.plain(body["includes"])) if "includes" in body else (),
        requirements=body.get("requirements", {}).get("S", ""),
        input_schema=json.loads(body["input_schema"]["S"]),
        output_schema=json.loads(body["output_schema"]["S"]),
    )


@dataclass(frozen=True)
class GigPage:
    gig_ids: list[str]
    last_key: str | None  # the sort key the Query stopped at: where the next page starts


class GigRepository(TableAccess):
    def load(self, gig_id: str) -> StoredGig | None:
        """The gig's two items: one strongly consistent Query."""
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=codec.values(pk=keys.gig_pk(gig_id)),
            ConsistentRead=True,
        )
        return _gig_from(response["Items"])

    def load_many(self, gig_ids: list[str]) -> dict[str, StoredGig]:
        """Each gig's two items, in BatchGetItem requests of at most 100 keys."""
        found: dict[str, list[dict[str, Any]]] = {}
        lookups = [keys.in_gig(gig_id, sort) for gig_id in dict.fromkeys(gig_ids) for sort in ("GIG", "BODY")]
        for item in self.batch_get(lookups):
            found.setdefault(item["pk"]["S"].removeprefix(keys.GIG_PREFIX), []).append(item)
        gigs = {gig_id: _gig_from(items) for gig_id, items in found.items()}
        return {gig_id: gig for gig_id, gig in gigs.items() if gig is not None}

    def create(self, gig: StoredGig) -> None:
        """A new gig: both items, on the condition that its id is new (one transaction)."""
        self.transact(
            [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": gig_item(gig),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Put": {"TableName": self.table, "Item": body_item(gig)}},
            ]
        )

    def replace(self, before: StoredGig, after: StoredGig) -> None:
        """The changed gig, on the version it was read at (its BODY too, only if a body field changed). Raises
        WriteConflict when another change came first."""
        condition = {
            "ConditionExpression": "version = :read_version",
            "ExpressionAttributeValues": codec.values(read_version=before.version),
        }
        if all(getattr(before, name) == getattr(after, name) for name in BODY_FIELDS):
            try:
                self.db.put_item(TableName=self.table, Item=gig_item(after), **condition)
            except self.db.exceptions.ConditionalCheckFailedException as error:
                raise WriteConflict() from error
            return
        self.transact(
            [
                {"Put": {"TableName": self.table, "Item": gig_item(after), **condition}},
                {"Put": {"TableName": self.table, "Item": body_item(after)}},
            ]
        )

    def order_placed(self, gig: StoredGig) -> dict[str, Any]:
        """The transaction item an order adds to its gig: +1 order, if the gig is still active at that price."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": keys.in_gig(gig.id, "GIG"),
                "UpdateExpression": "ADD orders :one",
                "ConditionExpression": "#status = :active AND price = :price",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": codec.values(one=1, active="active", price=gig.price),
            }
        }

    def rated(self, gig_id: str, rating: int) -> dict[str, Any]:
        """The transaction item a review of one of its orders adds to the gig: its rating."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": keys.in_gig(gig_id, "GIG"),
                "UpdateExpression": "ADD rating_sum :rating, rating_count :one",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": codec.values(rating=rating, one=1),
            }
        }

    def page(self, index: str, partition: str, limit: int, after: str | None) -> GigPage:
        """Gig ids of one listing partition, newest first, strictly before the cursor `after`."""
        pk_name, sk_name = INDEXES[index]
        values = codec.values(pk=partition)
        condition = "#pk = :pk"
        if after is not None:
            condition += " AND #sk < :after"
            values |= codec.values(after=after)
        response = self.db.query(
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#pk": pk_name, "#sk": sk_name} if after else {"#pk": pk_name},
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=limit,
        )
        sort_keys = [item[sk_name]["S"] for item in response["Items"]]
        stopped = response.get("LastEvaluatedKey")
        return GigPage([key.rsplit("#", 1)[1] for key in sort_keys], stopped[sk_name]["S"] if stopped else None)
