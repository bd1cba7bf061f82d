"""Accounts: registration (open and owner-issued), agent ids, keys and their revocation, profiles, the directory."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from local.stack import Stack
from tests.conftest import TEST_ENVIRONMENT
from tests.support import Agent, Api, FrozenClock

# ---- helpers -------------------------------------------------------------------------------------------------


def register_owner(api: Api, name: str = "Ada") -> Agent:
    response = api.post("/owners/register", {"name": name, "email": "ada@example.com"})
    assert response.status == 201, response.body
    body = response.json()
    assert body["account"]["kind"] == "owner" and body["key"].startswith("atb_")
    return Agent(key=body["key"], id=body["account"]["id"])


def issue_token(api: Api, owner: Agent, agent_id: str, **extra: Any) -> str:
    response = api.post("/agents/register-token", {"agent_id": agent_id, **extra}, key=owner.key)
    assert response.status == 201, response.body
    return str(response.json()["registration_token"])


def connect(api: Api, token: str, agent_id: str, **extra: Any) -> Any:
    body = {"registration_token": token, "agent_id": agent_id, "agent_name": "connected agent", **extra}
    return api.post("/agents/connect", body)


def error_code(response: Any) -> str:
    return str(response.json()["code"])


# ---- owner-issued registration -------------------------------------------------------------------------------


def test_an_owner_token_connects_its_agent_once(api: Api) -> None:
    owner = register_owner(api)
    token = issue_token(api, owner, "Ada-Coder")  # agent ids are lower-cased
    assert token.startswith("atr_")

    first = connect(api, token, "ada-coder", capabilities=["CODING", "Debugging"], endpoint=None)
    assert first.status == 201, first.body
    account = first.json()["account"]
    assert account["id"] == "ada-coder" and account["owner_id"] == owner.id and account["kind"] == "agent"
    assert account["capabilities"] == ["coding", "debugging"]
    agent = Agent(key=first.json()["key"], id="ada-coder")

    # the key works: the agent posts a task under its own id
    assert api.post_task(agent)["poster_id"] == "ada-coder"

    # the same token again: 401, and no second key exists
    again = connect(api, token, "ada-coder")
    assert again.status == 401 and error_code(again) == "invalid_registration_token"
    assert "already used" in again.json()["error"]
    assert api.get("/agents/me", key=agent.key).json()["key_count"] == 1


def test_a_forged_or_mismatched_token_gets_401_and_creates_nothing(api: Api) -> None:
    owner = register_owner(api)
    token = issue_token(api, owner, "real-agent")
    for forged in ("atr_" + "x" * 43, "not-a-token", token + "x", token[:-1]):
        response = connect(api, forged, "real-agent")
        assert response.status == 401 and error_code(response) == "invalid_registration_token", forged
    # a real token spent on another agent_id than it was issued for
    other_id = connect(api, token, "someone-else")
    assert other_id.status == 401 and "another agent_id" in other_id.json()["error"]
    assert api.get("/agents/someone-else").status == 404
    assert api.get("/agents/real-agent").status == 404
    # and the token still works for the agent it names
    assert connect(api, token, "real-agent").status == 201


def test_an_expired_token_gets_401(api: Api) -> None:
    from taskboard.runtime import accounts

    frozen = FrozenClock()
    accounts().clock = frozen
    owner = register_owner(api)
    token = issue_token(api, owner, "late-agent", expires_in_seconds=60)
    frozen.advance(61)
    response = connect(api, token, "late-agent")
    assert response.status == 401 and "expired" in response.json()["error"]
    assert api.get("/agents/late-agent").status == 404


def test_tokens_default_to_24_hours_and_are_bounded(api: Api) -> None:
    owner = register_owner(api)
    response = api.post("/agents/register-token", {"agent_id": "day-agent"}, key=owner.key)
    from datetime import datetime

    expires = datetime.fromisoformat(response.json()["expires_at"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(api.get("/agents/me", key=owner.key).json()["created_at"].replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=59) < expires - created < timedelta(hours=24, minutes=1)
    for seconds in (59, 7 * 86_400 + 1):
        refused = api.post(
            "/agents/register-token", {"agent_id": "x-agent", "expires_in_seconds": seconds}, key=owner.key
        )
        assert refused.status == 400, seconds


def test_an_agent_id_cannot_be_taken_over(api: Api) -> None:
    owner, rival = register_owner(api, "Ada"), register_owner(api, "Mallory")
    token = issue_token(api, owner, "unique-agent")
    rival_token = issue_token(api, rival, "unique-agent")  # both may issue before anyone connects ...
    assert connect(api, token, "unique-agent").status == 201
    # ... but the id is taken once: the rival's token cannot take it over
    taken = connect(api, rival_token, "unique-agent")
    assert taken.status == 409 and error_code(taken) == "agent_id_taken"
    assert api.get("/agents/unique-agent").json()["owner_id"] == owner.id
    # nor can a new token be issued for it
    again = api.post("/agents/register-token", {"agent_id": "unique-agent"}, key=rival.key)
    assert again.status == 409 and error_code(again) == "agent_id_taken"
    # and the rival's token was not spent by the failed attempt (it was never valid for a taken id)
    assert connect(api, rival_token, "unique-agent").status == 409


@pytest.mark.parametrize("agent_id", ["me", "ab", "-leading-dash", "has space", "x" * 65, "Ünïcode"])
def test_agent_ids_are_checked(api: Api, agent_id: str) -> None:
    owner = register_owner(api)
    response = api.post("/agents/register-token", {"agent_id": agent_id}, key=owner.key)
    assert response.status == 400 and error_code(response) == "invalid_request"


def test_only_owners_issue_tokens(api: Api, poster: Agent) -> None:
    response = api.post("/agents/register-token", {"agent_id": "from-an-agent"}, key=poster.key)
    assert response.status == 403 and error_code(response) == "owners_only"


def test_an_owner_reads_its_agents_results_but_does_not_act_for_them(api: Api, worker: Agent) -> None:
    owner = register_owner(api)
    poster = Agent(key=connect(api, issue_token(api, owner, "owned-poster"), "owned-poster").json()["key"], id="x")
    stranger = register_owner(api, "Stranger")
    task = api.post_task(poster)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": {"ok": True}}, key=worker.key)

    assert api.get(f"/tasks/{task['id']}", key=owner.key).json()["result"] == {"ok": True}
    assert api.get(f"/tasks/{task['id']}/result", key=owner.key).json()["result"] == {"ok": True}
    assert api.get(f"/tasks/{task['id']}", key=stranger.key).json()["result"] is None
    refused = api.get(f"/tasks/{task['id']}/result", key=stranger.key)
    assert refused.status == 403 and error_code(refused) == "not_the_poster"
    complete = api.post(f"/tasks/{task['id']}/complete", key=owner.key)
    assert complete.status == 403 and error_code(complete) == "not_the_poster"


def test_the_owner_of_the_worker_sees_the_result_too(api: Api, poster: Agent) -> None:
    owner = register_owner(api)
    worker = Agent(key=connect(api, issue_token(api, owner, "owned-worker"), "owned-worker").json()["key"], id="w")
    task = api.post_task(poster)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": [1, 2]}, key=worker.key)
    assert api.get(f"/tasks/{task['id']}", key=owner.key).json()["result"] == [1, 2]


# ---- the sign-up grant: capped per owner ----------------------------------------------------------------------

GRANT = 100
CAP = 5  # GrantedAgentsPerOwner's default


def connect_agent(api: Api, owner: Agent, agent_id: str) -> Agent:
    response = connect(api, issue_token(api, owner, agent_id), agent_id)
    assert response.status == 201, response.body
    return Agent(key=response.json()["key"], id=agent_id)


def wallet_and_ledger(api: Api, agent: Agent) -> tuple[int, list[str]]:
    balance = api.get("/wallet", key=agent.key).json()["balance"]
    entries = api.get("/wallet/ledger", key=agent.key).json()["entries"]
    return balance, [entry["type"] for entry in entries]


def granted_agents(owner: Agent) -> int:
    import boto3

    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="TasksTable", Key={"pk": {"S": f"ACCOUNT#{owner.id}"}, "sk": {"S": "ACCOUNT"}}, ConsistentRead=True
    )["Item"]
    return int(item.get("granted_agents", {}).get("N", "0"))


def test_an_owners_first_agents_get_the_grant_and_the_rest_start_with_none(api: Api, worker: Agent) -> None:
    owner = register_owner(api)
    agents = [connect_agent(api, owner, f"fleet-{n}") for n in range(CAP + 3)]

    # every connect makes its agent (an owner may run a fleet) ...
    for agent in agents:
        assert api.get(f"/agents/{agent.id}").json()["owner_id"] == owner.id
    # ... and the first CAP of them start with the grant (with its ledger entry), the others with nothing
    assert [wallet_and_ledger(api, agent) for agent in agents] == [(GRANT, ["grant"])] * CAP + [(0, [])] * 3
    assert granted_agents(owner) == CAP
    # another owner's agents have their own count
    other_owner = register_owner(api, "Grace")
    assert wallet_and_ledger(api, connect_agent(api, other_owner, "graces-agent")) == (GRANT, ["grant"])
    # an agent without a grant is a full agent: it can work, and be paid for it
    unfunded = agents[-1]
    task = api.post_task(worker, budget=10)
    assert api.post(f"/tasks/{task['id']}/claim", key=unfunded.key).status == 200
    assert api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=unfunded.key).status == 200
    assert api.post(f"/tasks/{task['id']}/complete", key=worker.key).status == 200
    assert wallet_and_ledger(api, unfunded) == (9, ["payout"])
    # and one that cannot pay for a budget is told so
    refused = api.post("/tasks", {"title": "t", "budget": 10}, key=agents[-2].key)
    assert refused.status == 402 and error_code(refused) == "insufficient_credits"


def test_racing_connects_never_pass_the_grant_cap(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    owner = register_owner(api)
    tokens = {f"racer-{n}": issue_token(api, owner, f"racer-{n}") for n in range(CAP + 5)}

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        answers = list(pool.map(lambda pair: connect(api, pair[1], pair[0]), tokens.items()))

    assert [answer.status for answer in answers] == [201] * len(tokens)
    balances = [
        wallet_and_ledger(api, Agent(answer.json()["key"], agent_id))[0]
        for answer, agent_id in zip(answers, tokens, strict=True)
    ]
    assert sorted(balances, reverse=True) == [GRANT] * CAP + [0] * 5
    assert granted_agents(owner) == CAP


def test_a_token_used_twice_at_once_is_refused_even_past_the_cap(api: Api) -> None:
    """Past the cap a connect is tried again without the grant: that retry still spends the token only once."""
    from concurrent.futures import ThreadPoolExecutor

    owner = register_owner(api)
    for n in range(CAP):
        connect_agent(api, owner, f"early-{n}")
    token = issue_token(api, owner, "late-comer")

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(lambda _: connect(api, token, "late-comer").status, range(4)))

    assert statuses[0] == 201 and set(statuses[1:]) <= {401, 409}
    late = connect(api, token, "late-comer")
    assert late.status in (401, 409)
    assert granted_agents(owner) == CAP


def test_the_grant_cap_is_a_setting(api: Api) -> None:
    from taskboard.runtime import accounts

    owner = register_owner(api)
    accounts().granted_agents_per_owner = 2
    assert [wallet_and_ledger(api, connect_agent(api, owner, f"two-{n}"))[0] for n in range(3)] == [GRANT, GRANT, 0]
    accounts().granted_agents_per_owner = 0  # no connected agent gets a grant
    assert wallet_and_ledger(api, connect_agent(api, register_owner(api, "Zero"), "zero-0")) == (0, [])
    # agents that sign up on their own are under the sign-up rate limit instead, each with its grant
    assert wallet_and_ledger(api, api.new_agent(name="solo")) == (GRANT, ["grant"])


def test_the_grant_cap_reads_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskboard.core.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("GRANTED_AGENTS_PER_OWNER", "12")
    try:
        assert get_settings().granted_agents_per_owner == 12
        monkeypatch.delenv("GRANTED_AGENTS_PER_OWNER")
        get_settings.cache_clear()
        assert get_settings().granted_agents_per_owner == CAP
    finally:
        get_settings.cache_clear()


# ---- open registration ---------------------------------------------------------------------------------------


def test_self_registration_makes_an_agent_with_its_profile(api: Api) -> None:
    response = api.post(
        "/agents/register",
        {
            "name": "Scraper 7",
            "description": "scrapes things",
            "capabilities": ["DATA", "research", "Data"],
            "endpoint_url": "http://127.0.0.1:9/agent",  # the local stack admits loopback URLs
            "price_per_task": 5,
            "owner_email": "me@example.com",
            "metadata": {"model": "x-1"},
        },
    )
    assert response.status == 201, response.body
    body = response.json()
    agent = Agent(key=body["key"], id=body["account"]["id"])
    assert body["account"]["capabilities"] == ["data", "research"] and body["account"]["email"] == "me@example.com"
    public = api.get(f"/agents/{agent.id}").json()
    assert public["name"] == "Scraper 7" and public["price_per_task"] == 5 and public["metadata"] == {"model": "x-1"}
    assert "email" not in public and "key_count" not in public
    assert api.get("/agents/me", key=agent.key).json()["email"] == "me@example.com"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x", "capabilities": ["bad tag!"]},
        {"name": "x", "capabilities": [f"c{n}" for n in range(21)]},
        {"name": "x", "metadata": {"big": "x" * 5000}},
        {"name": "x", "price_per_task": -1},
        {"name": "x", "owner_email": "not-an-email"},
        {"name": "x", "unknown": 1},
    ],
)
def test_registration_refuses_bad_input(api: Api, body: dict[str, Any]) -> None:
    response = api.post("/agents/register", body)
    assert response.status == 400 and error_code(response) == "invalid_request", response.body


def test_profile_urls_must_be_safe(api: Api) -> None:
    response = api.post("/agents/register", {"name": "x", "webhook_url": "https://169.254.169.254/latest"})
    assert response.status == 400 and error_code(response) == "unsafe_url"
    response = api.post("/agents/register", {"name": "x", "endpoint_url": "https://ops:secret@agent.example.com"})
    assert response.status == 400 and error_code(response) == "unsafe_url"


def test_profile_urls_are_checked_for_form_but_not_looked_up_in_dns(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a profile's contact URL was resolved")

    # Given a contact URL whose host does not resolve (the README's own example)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    body = {"name": "scraper-7", "endpoint_url": "https://agent.example.com", "webhook_url": "https://hooks.example"}
    # When an agent registers with it, and later changes it
    registered = api.post("/agents/register", body)
    # Then it is accepted and shown as given, with no DNS lookup
    assert registered.status == 201, registered.body
    assert registered.json()["account"]["endpoint_url"] == "https://agent.example.com"
    key = registered.json()["key"]
    updated = api.call("PATCH", "/agents/me", json_body={"endpoint_url": "https://other.example.net/agent"}, key=key)
    assert updated.status == 200 and updated.json()["endpoint_url"] == "https://other.example.net/agent"


def test_closed_registration_admits_agents_only_through_owners() -> None:
    with Stack(environment=TEST_ENVIRONMENT | {"OPEN_REGISTRATION": "false"}) as stack:
        api = Api(stack)
        for path, body in (("/keys", {"name": "x"}), ("/agents/register", {"name": "x"})):
            refused = api.post(path, body)
            assert refused.status == 403 and error_code(refused) == "registration_closed", path
        owner = register_owner(api)
        assert connect(api, issue_token(api, owner, "invited"), "invited").status == 201


# ---- profiles and the directory ------------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(api: Api, poster: Agent) -> None:
    before = api.get("/agents/me", key=poster.key).json()
    changed = api.call("PATCH", "/agents/me", json_body={"status": "busy", "capabilities": ["WRITING"]}, key=poster.key)
    assert changed.status == 200, changed.body
    after = changed.json()
    assert after["status"] == "busy" and after["capabilities"] == ["writing"]
    assert after["name"] == before["name"] and after["updated_at"] > before["updated_at"]
    cleared = api.call("PATCH", "/agents/me", json_body={"price_per_task": 3}, key=poster.key).json()
    assert cleared["price_per_task"] == 3
    cleared = api.call("PATCH", "/agents/me", json_body={"price_per_task": None}, key=poster.key).json()
    assert cleared["price_per_task"] is None and cleared["status"] == "busy"
    for bad in ({}, {"status": "asleep"}, {"name": None}, {"capabilities": None}):
        refused = api.call("PATCH", "/agents/me", json_body=bad, key=poster.key)
        assert refused.status == 400, bad


def test_the_directory_filters_by_capability_and_status_and_pages(api: Api) -> None:
    made = {}
    for index in range(5):
        body = {"name": f"agent {index}", "capabilities": ["coding"] if index % 2 == 0 else ["design"]}
        response = api.post("/agents/register", body).json()
        made[index] = Agent(key=response["key"], id=response["account"]["id"])
    api.call("PATCH", "/agents/me", json_body={"status": "offline"}, key=made[0].key)
    # a capability moved: the agent leaves one list and joins the other
    api.call("PATCH", "/agents/me", json_body={"capabilities": ["CODING", "design"]}, key=made[1].key)

    def ids(query: str) -> list[str]:
        found, cursor = [], None
        while True:
            page = api.get("/agents", query=query + (f"&cursor={cursor}" if cursor else "")).json()
            found += [agent["id"] for agent in page["agents"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    coders = ids("capability=Coding&limit=1")  # one per page: the cursor carries the rest
    assert sorted(coders) == sorted([made[0].id, made[1].id, made[2].id, made[4].id])
    assert coders[-1] == made[0].id  # online agents first, offline ones last
    assert sorted(ids("capability=design&limit=2")) == sorted([made[1].id, made[3].id])
    online_coders = ids("capability=coding&status=online")
    assert made[0].id not in online_coders and len(online_coders) == 3
    assert made[0].id in ids("status=offline&limit=100")
    assert len(ids("limit=2")) == 5
    bad = api.get("/agents", query="cursor=garbage")
    assert bad.status == 400 and error_code(bad) == "invalid_cursor"
    assert api.get("/agents", query="status=asleep").status == 400
    assert api.get("/agents/no-such-agent").status == 404


# ---- keys ----------------------------------------------------------------------------------------------------


def test_keys_are_listed_added_and_revoked(api: Api, poster: Agent) -> None:
    second = api.post("/agents/me/keys", key=poster.key)
    assert second.status == 201
    new = second.json()
    listed = api.get("/agents/me/keys", key=poster.key).json()["keys"]
    assert [item["key_id"] for item in listed][-1] == new["key_id"] and len(listed) == 2
    assert all(set(item) == {"key_id", "prefix", "created_at", "last_used_at"} for item in listed)
    assert listed[0]["last_used_at"] is not None  # the first key was just used for this very call

    # the new key works; the old one, once revoked, does not (the authorizer's cache aside: see below)
    assert api.get("/agents/me", key=new["key"]).json()["id"] == poster.id
    from taskboard.accounts.keys import key_lookup

    revoked = api.call("DELETE", f"/agents/me/keys/{listed[0]['key_id']}", key=new["key"])
    assert revoked.status == 204
    key_lookup()._cache.clear()  # a fresh container, or 30 s later
    refused = api.get("/agents/me", key=poster.key)
    assert refused.status == 401 and error_code(refused) == "unauthorized"
    # the last key cannot be revoked: the account would be lost
    last = api.call("DELETE", f"/agents/me/keys/{new['key_id']}", key=new["key"])
    assert last.status == 409 and error_code(last) == "last_key"
    missing = api.call("DELETE", "/agents/me/keys/key_0000000000000000", key=new["key"])
    assert missing.status == 404 and error_code(missing) == "key_not_found"


def test_an_account_holds_at_most_ten_keys(api: Api, poster: Agent) -> None:
    for _ in range(9):
        assert api.post("/agents/me/keys", key=poster.key).status == 201
    refused = api.post("/agents/me/keys", key=poster.key)
    assert refused.status == 409 and error_code(refused) == "too_many_keys"
    assert api.get("/agents/me", key=poster.key).json()["key_count"] == 10


def test_a_revoked_key_works_at_most_for_the_authorizer_cache_period(api: Api, poster: Agent) -> None:
    from taskboard.accounts.keys import key_lookup

    lookup = key_lookup()
    now = [1000.0]
    lookup.monotonic = lambda: now[0]
    second = api.post("/agents/me/keys", key=poster.key).json()
    assert api.get("/agents/me", key=second["key"]).status == 200  # checked once: cached for 30 s
    first_id = api.get("/agents/me/keys", key=poster.key).json()["keys"][0]["key_id"]
    assert api.call("DELETE", f"/agents/me/keys/{second['key_id']}", key=poster.key).status == 204
    assert first_id != second["key_id"]
    now[0] += 29
    assert api.get("/agents/me", key=second["key"]).status == 200  # still in this container's cache
    now[0] += 2
    assert api.get("/agents/me", key=second["key"]).status == 401  # the cache period is over
