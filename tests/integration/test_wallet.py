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

    # entries of other kinds are what later issues write; here they are put in place to page through
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for n in range(5):
        dynamodb.put_item(
            TableName="TasksTable",
            Item={
                "pk": {"S": f"ACCOUNT#{poster.id}"},
                "sk": {"S": f"LEDGER#2099-01-01T00:00:0{n}.000000Z#led_{n:032x}"},
                "id": {"S": f"led_{n:032x}"},
                "type": {"S": "tip"},
                "amount": {"N": "1"},
                "balance_after": {"N": str(101 + n)},
                "created_at": {"S": f"2099-01-01T00:00:0{n}.000000Z"},
            },
        )
    seen, cursor = [], None
    while True:
        page = api.get("/wallet/ledger", key=poster.key, query="limit=2" + (f"&cursor={cursor}" if cursor else ""))
        body = page.json()
        assert len(body["entries"]) <= 2
        seen += [entry["balance_after"] for entry in body["entries"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [105, 104, 103, 102, 101, 100]  # newest first, each once, the grant last
    bad = api.get("/wallet/ledger", key=poster.key, query="cursor=bm9wZQ")
    assert bad.status == 400 and bad.json()["code"] == "invalid_cursor"
