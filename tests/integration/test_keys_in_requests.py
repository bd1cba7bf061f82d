"""How a key is sent and stored: the accepted forms (x-api-key, X-Agent-API-Key, Bearer), the refused ones,
and only hashes kept.

The helpers (set_up_task, scan_table) are the authorization matrix's (tests/integration/test_authorization.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from tests.integration.test_authorization import (
    DELIVERED,
    MALFORMED,
    NEVER_ISSUED,
    RESULT,
    scan_table,
    set_up_task,
)
from tests.support import Agent, Api

# ---- how the key is sent -------------------------------------------------------------------------------------


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda key: {"x-api-key": key}, id="x-api-key"),
        pytest.param(lambda key: {"X-API-Key": key}, id="X-API-Key"),
        pytest.param(lambda key: {"Authorization": f"Bearer {key}"}, id="authorization-bearer"),
        pytest.param(lambda key: {"authorization": f"bearer {key}"}, id="authorization-bearer-lowercase"),
        pytest.param(lambda key: {"X-Agent-API-Key": key}, id="X-Agent-API-Key"),  # the UpClaws reference's
    ],
)
def test_key_is_accepted_as_x_api_key_and_as_bearer(api: Api, poster: Agent, worker: Agent, form: Any) -> None:
    # A key-only endpoint knows who is calling
    created = api.call("POST", "/tasks", json_body={"title": "sent with a header"}, headers=form(poster.key))
    assert created.status == 201, created.body
    assert created.json()["poster_id"] == poster.id
    # ... and so does an endpoint where the key is optional (the result is shown to the poster)
    task = set_up_task(api, DELIVERED, poster, worker)
    seen = api.get(f"/tasks/{task['id']}", headers=form(poster.key))
    assert seen.status == 200 and seen.json()["result"] == RESULT
    # ... and a poster-only one lets the poster in
    result = api.get(f"/tasks/{task['id']}/result", headers=form(poster.key), query="timeout=0")
    assert result.status == 200 and result.json()["result"] == RESULT


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda key: {"Authorization": _basic(key)}, id="basic"),
        pytest.param(lambda key: {"Authorization": f"Basic {key}"}, id="basic-raw-key"),
        pytest.param(lambda key: {"Authorization": key}, id="no-scheme"),
        pytest.param(lambda key: {"Authorization": f"Token {key}"}, id="token-scheme"),
        pytest.param(lambda key: {"Authorization": "Bearer "}, id="bearer-without-key"),
        pytest.param(lambda key: {"api-key": key}, id="other-header-name"),
    ],
)
def test_key_is_not_accepted_in_any_other_form(api: Api, poster: Agent, worker: Agent, form: Any) -> None:
    task = set_up_task(api, DELIVERED, poster, worker)
    before = scan_table()
    refused = api.call("POST", f"/tasks/{task['id']}/complete", headers=form(poster.key))
    assert refused.status == 401 and refused.json()["code"] == "unauthorized"
    created = api.call("POST", "/tasks", json_body={"title": "should not exist"}, headers=form(poster.key))
    assert created.status == 401 and created.json()["code"] == "unauthorized"
    assert scan_table() == before
    # where a key is optional, such a header does not identify the poster either: the result stays hidden
    seen = api.get(f"/tasks/{task['id']}", headers=form(poster.key))
    assert seen.status == 200 and seen.json()["result"] is None and seen.json()["status"] == "delivered"


def test_an_unknown_key_is_refused_as_bearer_too(api: Api, poster: Agent) -> None:
    task = api.post_task(poster)
    for key in (NEVER_ISSUED, MALFORMED):
        response = api.get(f"/tasks/{task['id']}", headers={"Authorization": f"Bearer {key}"})
        assert response.status == 401 and response.json()["code"] == "unauthorized"


# ---- how the key is stored -----------------------------------------------------------------------------------


def test_a_key_is_stored_only_as_its_hash(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    # Given keys that have been used on every kind of call
    task = set_up_task(api, DELIVERED, poster, worker)
    api.post(f"/tasks/{task['id']}/complete", key=poster.key)
    api.post_task(other, title="from the other agent")
    api.post("/tasks/next/claim", key=worker.key)
    api.get("/tasks", key=other.key, query="status=all")

    # When the whole table is read
    stored = json.dumps(scan_table())

    # Then no key appears in it, in full or without its prefix, but each one's SHA-256 does
    for agent in (poster, worker, other):
        assert agent.key.startswith("atb_")
        assert agent.key not in stored
        assert agent.key.removeprefix("atb_") not in stored
        assert f"KEY#{hashlib.sha256(agent.key.encode()).hexdigest()}" in stored
        assert agent.id in stored  # the scan did see the accounts


def test_the_key_is_checked_before_the_body(api: Api) -> None:
    """An anonymous caller hears 401 even when its body is also wrong: who you are is decided first."""
    for path, body in [("/tasks", {"title": 5}), ("/tasks/next/claim", {"agent_id": 7})]:
        response = api.post(path, body)
        assert response.status == 401 and response.json()["code"] == "unauthorized", path
    bad_key = api.post("/tasks", {"title": 5}, key="atb_" + "x" * 43)
    assert bad_key.status == 401


def test_two_different_keys_in_one_request_get_400_and_change_nothing(api: Api, poster: Agent, worker: Agent) -> None:
    # Given a task, and a request that names the poster in one header and the worker in the other
    task = api.post_task(poster, title="whose call?")
    before = scan_table()
    headers = {"Authorization": f"Bearer {worker.key}"}

    # When it tries to act (a cancel only the poster may make) or to read
    cancel = api.post(f"/tasks/{task['id']}/cancel", key=poster.key, headers=headers)
    read = api.get("/tasks", key=poster.key, headers=headers)

    # Then neither key is guessed at: 400 conflicting_keys, and nothing changed
    for response in (cancel, read):
        assert response.status == 400 and response.json()["code"] == "conflicting_keys", response.body
    assert scan_table() == before
    # the same key in both headers is one key
    same = api.post(f"/tasks/{task['id']}/cancel", key=poster.key, headers={"Authorization": f"Bearer {poster.key}"})
    assert same.status == 200 and same.json()["status"] == "cancelled"
