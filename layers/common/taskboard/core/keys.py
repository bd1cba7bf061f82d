"""Every item key of the main table, built in one place (the layout is drawn in each store's docstring).

  pk ACCOUNT#<id>   sk ACCOUNT | CAP#... | KEY#... | LEDGER#... | REVIEW#... | WEBHOOK#...   an account's partition
  pk TASK#<id>      sk STATE | BODY | RESULT | REVIEW | EVENT#... | LISTING#...            a task's (or an order's)
  pk GIG#<id>       sk GIG | BODY                                                        a gig's partition

A key is a DynamoDB key map ({"pk": {"S": ...}, "sk": {"S": ...}}); `*_pk` are the partition strings and
`*_id_of` read an id back out of one."""

from __future__ import annotations

from typing import Any

Key = dict[str, dict[str, Any]]

ACCOUNT_PREFIX = "ACCOUNT#"
TASK_PREFIX = "TASK#"
GIG_PREFIX = "GIG#"
ACCOUNT_SORT = "ACCOUNT"
LEDGER_PREFIX = "LEDGER#"


def key(pk: str, sk: str) -> Key:
    """The key map of any item: {"pk": {"S": pk}, "sk": {"S": sk}} (the named helpers below build theirs)."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def account_pk(account_id: str) -> str:
    return f"{ACCOUNT_PREFIX}{account_id}"


def account_id_of(pk: str) -> str:
    return pk.removeprefix(ACCOUNT_PREFIX)


def in_account(account_id: str, sort: str) -> Key:
    """An item in an account's partition."""
    return {"pk": {"S": account_pk(account_id)}, "sk": {"S": sort}}


def account(account_id: str) -> Key:
    """The ACCOUNT item: profile, balance, counters."""
    return in_account(account_id, ACCOUNT_SORT)


def ledger_entry(account_id: str, seq: int, entry_id: str) -> Key:
    """A ledger entry, LEDGER#s<seq>#<entry id>: `seq` (12 digits) is the account's entry count the entry brings
    it to (its `ledger_seq`), so the entries sort in the order the balance moved, whatever the writers' clocks
    said. Entries written before there was a count, LEDGER#<time>#<entry id>, sort before every numbered one."""
    return in_account(account_id, f"{LEDGER_PREFIX}s{seq:012d}#{entry_id}")


def task_pk(task_id: str) -> str:
    return f"{TASK_PREFIX}{task_id}"


def task_id_of(pk: str) -> str:
    return pk.removeprefix(TASK_PREFIX)


def in_task(task_id: str, sort: str) -> Key:
    """An item in a task's partition (STATE, BODY, RESULT, REVIEW, EVENT#...)."""
    return {"pk": {"S": task_pk(task_id)}, "sk": {"S": sort}}


def api_key(digest: str) -> Key:
    """An API key by its SHA-256 (what the authorizer reads): KEY#<digest> / KEY."""
    return {"pk": {"S": f"KEY#{digest}"}, "sk": {"S": "KEY"}}


def registration_token(digest: str) -> Key:
    """A registration token by its SHA-256: REGTOKEN#<digest> / REGTOKEN."""
    return {"pk": {"S": f"REGTOKEN#{digest}"}, "sk": {"S": "REGTOKEN"}}


def gig_pk(gig_id: str) -> str:
    return f"{GIG_PREFIX}{gig_id}"


def in_gig(gig_id: str, sort: str) -> Key:
    """An item in a gig's partition: GIG (its terms, status and counters) or BODY (its long texts and schemas)."""
    return {"pk": {"S": gig_pk(gig_id)}, "sk": {"S": sort}}
