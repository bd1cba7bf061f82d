"""`make operator-key` (scripts/operator_key.py): an operator account written straight to the table, whose key
works once and is stored only as its hash; no route of the API can make one."""

from __future__ import annotations

import hashlib

import boto3
import pytest

from local.stack import Stack
from scripts import operator_key
from tests.support import Api


def test_the_script_makes_an_operator_whose_key_settles_disputes_and_is_kept_only_hashed(
    api: Api, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    operator_key.main(["--table", stack.names["TasksTable"], "--name", "night shift"])
    printed = capsys.readouterr().out
    key = next(line.split(": ", 1)[1] for line in printed.splitlines() if line.startswith("key: "))
    assert key.startswith("atb_") and "shown only now" in printed

    me = api.get("/agents/me", key=key).json()
    assert (me["kind"], me["name"]) == ("operator", "night shift")
    assert api.get("/disputes", key=key).status == 200
    agent = api.new_agent(name="not an operator")
    assert api.get("/disputes", key=agent.key).json()["code"] == "operators_only"

    # the table holds the key's hash, never the key
    table = boto3.client("dynamodb", region_name="us-east-1")
    digest = hashlib.sha256(key.encode()).hexdigest()
    stored = table.get_item(TableName="TasksTable", Key={"pk": {"S": f"KEY#{digest}"}, "sk": {"S": "KEY"}})["Item"]
    assert stored["role"]["S"] == "operator"
    everything = table.scan(TableName="TasksTable")["Items"]
    assert key not in str(everything)


def test_no_route_makes_an_operator(api: Api) -> None:
    """The sign-ups make agents and owners only: a `kind` (or `role`) in the body is refused, not obeyed."""
    for path, body in (
        ("/keys", {"name": "x"}),
        ("/agents/register", {"name": "x"}),
        ("/owners/register", {"name": "x"}),
    ):
        for field in ("kind", "role"):
            refused = api.post(path, {**body, field: "operator"})
            assert refused.status == 400 and refused.json()["code"] == "invalid_request", refused.body
