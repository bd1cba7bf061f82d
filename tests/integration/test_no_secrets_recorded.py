"""No secret the API hands out once (an API key, a registration token, a webhook secret) is ever recorded in a
trace or a log line, with the template's own settings for both.

Tracing is off on the local stack (no X-Ray daemon), so the test puts a recording provider behind the shared
Tracer: everything a deployed function would put into its X-Ray subsegments (metadata, annotations) is kept,
along with every log line at DEBUG, while every secret-bearing route runs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local.stack import Stack
from tests.conftest import TEST_ENVIRONMENT
from tests.support import Api


class RecordingSubsegment:
    def __init__(self, name: str, kept: list[Any]) -> None:
        self.name, self.kept = name, kept

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.kept.append({"subsegment": self.name, "metadata": key, "value": value})

    def put_annotation(self, key: str, value: Any) -> None:
        self.kept.append({"subsegment": self.name, "annotation": key, "value": value})

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.kept.append({"subsegment": self.name, "exception": repr(exception)})


class RecordingProvider:
    """What Powertools' Tracer calls on its provider (aws_xray_sdk in Lambda), keeping everything it is given."""

    def __init__(self) -> None:
        self.kept: list[Any] = []

    @contextmanager
    def in_subsegment(self, name: str, **kwargs: Any) -> Iterator[RecordingSubsegment]:
        yield RecordingSubsegment(name, self.kept)

    def put_annotation(self, key: str, value: Any) -> None:
        self.kept.append({"annotation": key, "value": value})

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.kept.append({"metadata": key, "value": value})


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + json.dumps(record.__dict__, default=str))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, RecordingProvider, Lines]]:
    from taskboard.runtime import logger, tracer

    provider, lines = RecordingProvider(), Lines()
    monkeypatch.setattr(tracer.real, "provider", provider)  # the Tracer itself (made on first use)
    logger.addHandler(lines)
    logging.getLogger().addHandler(lines)  # anything else that logs (botocore, Powertools' own loggers)
    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        # the handlers are decorated (and read POWERTOOLS_TRACER_* from the template's environment) in this stack
        with Stack(environment=TEST_ENVIRONMENT) as stack:
            yield Api(stack), provider, lines
    finally:
        logger.setLevel(previous)
        logger.removeHandler(lines)
        logging.getLogger().removeHandler(lines)


def test_no_secret_handed_out_is_recorded_in_a_trace_or_a_log(
    recorded: tuple[Api, RecordingProvider, Lines],
) -> None:
    api, provider, lines = recorded
    secrets: list[str] = []

    def keep(response: Any, *fields: str) -> Any:
        assert response.status in (200, 201), response.body
        body = response.json()
        for field in fields:
            value: Any = body
            for part in field.split("."):
                value = value[part]
            secrets.append(value)
        return body

    # Given every route that hands out a secret, called with an Idempotency-Key too
    idempotent = {"Idempotency-Key": "once"}
    quick = keep(api.post("/keys", {"name": "quick"}, headers=idempotent), "key")
    keep(api.post("/agents/register", {"name": "registered"}), "key")
    owner = keep(api.post("/owners/register", {"name": "Ada"}), "key")
    token = keep(api.post("/agents/register-token", {"agent_id": "ada-coder"}, key=owner["key"]), "registration_token")
    connect = {"registration_token": token["registration_token"], "agent_id": "ada-coder", "agent_name": "coder"}
    keep(api.post("/agents/connect", connect), "key")
    keep(api.post("/agents/me/keys", key=quick["key"], headers=idempotent), "key")
    hook = keep(api.post("/webhooks", {"url": "http://127.0.0.1:9/hook"}, key=quick["key"]), "secret")
    keep(api.post(f"/webhooks/{hook['id']}/rotate", key=quick["key"]), "secret")
    task = {"title": "called back", "callback_url": "http://127.0.0.1:9/callback"}
    keep(api.post("/tasks", task, key=quick["key"], headers=idempotent), "callback.secret")
    # and a key used to call, and a wrong one
    assert api.get("/agents/me", key=quick["key"]).status == 200
    assert api.get("/agents/me", key="atb_" + "B" * 43).status == 401

    # Then the traces and the logs saw the calls, and none of the secrets
    assert provider.kept, "the recording tracer saw nothing: the test would not notice a leak"
    assert lines.lines, "no log line was captured: the test would not notice a leak"
    recorded_text = json.dumps(provider.kept, default=str) + "\n".join(lines.lines)
    assert len(secrets) == 9
    for secret in [*secrets, "atb_" + "B" * 43]:
        assert secret not in recorded_text, f"a secret ({secret[:8]}...) was recorded"
