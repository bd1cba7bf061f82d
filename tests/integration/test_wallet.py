"""Wallets and the ledger: the sign-up grant, written with the account; GET /wallet and its ledger pages."""

from __future__ import annotations

from local.stack import Stack
from tests.conftest import TEST_ENVIRONMENT
from tests.support import Agent, Api


def test_a_new_agent_starts_with_the_grant_and_its_ledger_explains_it(api: Api, poster: Agent) -> None:
    wallet = api.get("/wallet", key=poster.key).json()
    assert wallet == {"account_id": poster.id, "balance": 100, "escrowed": 0}
    (entry,) = api.get("/wallet/ledger", key=poster.key).json()["entries"]
    assert (entry["type"], entry["amount"], entry["balance_after"], entry["task_id"]) == ("grant", 100, 100, None)
    assert entry["id"].startswith("led_")


def test_every_way_in_grants_agents_and_not_owners(api: Api) -> None:
    registered = api.post("/agents/register", {"name": "registered"}).json()
    owner = api.post("/owners/register", {"name": "owner"}).json()
    token = api.post("/agents/register-token", {"agent_id": "paid-agent"}, key=owner["key"]).json()
    connected = api.post(
        "/agents/connect",
        {"registration_token": token["registration_token"], "agent_id": "paid-agent", "agent_name": "paid"},
    ).json()
    assert api.get("/wallet", key=registered["key"]).json()["balance"] == 100
    assert api.get("/wallet", key=connected["key"]).json()["balance"] == 100
    assert api.get("/wallet", key=owner["key"]).json()["balance"] == 0
    assert api.get("/wallet/ledger", key=owner["key"]).json() == {"entries": [], "next_cursor": None}


def test_the_grant_is_a_template_parameter() -> None:
    with Stack(environment=TEST_ENVIRONMENT | {"SIGNUP_GRANT": "7"}) as stack:
        api = Api(stack)
        agent = api.new_agent(name="frugal")
        assert api.get("/wallet", key=agent.key).json()["balance"] == 7


def test_ledger_pages_newest_first_and_refuses_foreign_cursors(api: Api, poster: Agent) -> None:
    import boto3

    # entries of other kinds are what later issues write; here they are put in place to page through, numbered
    # on from the grant (entry 1) as taskboard.money.purse numbers them
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for n in range(5):
        dynamodb.put_item(
            TableName="TasksTable",
            Item={
                "pk": {"S": f"ACCOUNT#{poster.id}"},
                "sk": {"S": f"LEDGER#s{n + 2:012d}#led_{n:032x}"},
                "id": {"S": f"led_{n:032x}"},
                "type": {"S": "tip"},
                "amount": {"N": "1"},
                "balance_after": {"N": str(101 + n)},
                "created_at": {"S": "2099-01-01T00:00:00.000000Z"},  # one instant: the number orders them
            },
        )
    assert ledger_pages(api, poster, 2) == [105, 104, 103, 102, 101, 100]  # newest first, each once, grant last
    bad = api.get("/wallet/ledger", key=poster.key, query="cursor=bm9wZQ")
    assert bad.status == 400 and bad.json()["code"] == "invalid_cursor"


def ledger_pages(api: Api, agent: Agent, limit: int) -> list[int]:
    """Every entry's balance_after, page after page of GET /wallet/ledger."""
    seen, cursor = [], None
    while True:
        page = api.get(
            "/wallet/ledger", key=agent.key, query=f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        )
        body = page.json()
        assert page.status == 200 and len(body["entries"]) <= limit, page.body
        seen += [entry["balance_after"] for entry in body["entries"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_a_ledger_from_before_entries_were_numbered_reads_on_in_order(api: Api, poster: Agent) -> None:
    """A deployed account's ledger has timed keys (LEDGER#<time>#<id>) and no ledger_seq: its next entries are
    numbered from 1, sort after every timed one, and its pages, cursors and audit cross the change."""
    import boto3

    from scripts.audit import audit

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    first = api.post_task(poster, budget=10)
    # Given the poster's grant and escrow as the code before the numbering wrote them
    account = {"pk": {"S": f"ACCOUNT#{poster.id}"}, "sk": {"S": "ACCOUNT"}}
    numbered = dynamodb.query(
        TableName="TasksTable",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :ledger)",
        ExpressionAttributeValues={":pk": account["pk"], ":ledger": {"S": "LEDGER#s"}},
    )["Items"]
    assert len(numbered) == 2
    for second, entry in enumerate(numbered):
        dynamodb.delete_item(TableName="TasksTable", Key={"pk": entry["pk"], "sk": entry["sk"]})
        timed = f"LEDGER#2026-01-01T00:00:0{second}.000000Z#{entry['id']['S']}"
        dynamodb.put_item(TableName="TasksTable", Item={**entry, "sk": {"S": timed}})
    dynamodb.update_item(TableName="TasksTable", Key=account, UpdateExpression="REMOVE ledger_seq")

    # When its credits move again: the first task is cancelled (refund), a second one posted (escrow)
    assert api.post(f"/tasks/{first['id']}/cancel", key=poster.key).status == 200
    api.post_task(poster, budget=20)

    # Then the new entries follow the old ones, newest first, one at a time (a timed cursor among them)
    assert ledger_pages(api, poster, 1) == [80, 100, 90, 100]
    assert ledger_pages(api, poster, 3) == [80, 100, 90, 100]
    assert dynamodb.get_item(TableName="TasksTable", Key=account)["Item"]["ledger_seq"] == {"N": "2"}
    # and make audit finds the chain whole across both kinds of keys
    report = audit(dynamodb, "TasksTable")
    assert report.ok, report.differences
