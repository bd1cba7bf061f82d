"""Driving the local stack's API: the tests' client (tests/support.Api) and environment, plus the bench's own
way of preparing a call (a Request, sent later while counting) and of measuring one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.stack import ProxyResponse
from scripts.bench.capacity import Cost
from scripts.bench.recorder import Recorder
from tests.conftest import TEST_ENVIRONMENT
from tests.support import Agent, Api

# The bench makes hundreds of calls per key and dozens of accounts from one IP in a minute: the rate limits
# (whose one UpdateItem per call it still counts) are out of reach, as in the tests. The tests' other settings
# (a fast poll, quick webhook retries) are not taken: each section sets what it measures.
UNLIMITED = {name: value for name, value in TEST_ENVIRONMENT.items() if "LIMIT" in name}

SCHEMA = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "integer"}}}
RESULT = {"answer": 42}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    key: str | None = None
    body: Any = None
    query: str = ""


class BenchApi(Api):
    """tests/support.Api, with the set-up calls the bench makes (a failed one stops the bench)."""

    def send(self, request: Request) -> ProxyResponse:
        return self.call(request.method, request.path, json_body=request.body, key=request.key, query=request.query)

    def ok(self, method: str, path: str, key: str | None = None, body: Any = None, query: str = "") -> Any:
        response = self.send(Request(method, path, key, body, query))
        if response.status >= 300:
            raise RuntimeError(f"set-up call {method} {path} failed: {response.status} {response.body}")
        return response.json()

    def agent(self, name: str) -> Agent:
        return self.new_agent(name=name)

    def task(self, poster: Agent, **fields: Any) -> str:
        body = {"description": "Do the thing.", "input": {"text": "hello"}, **fields}
        return str(self.post_task(poster, **body)["id"])


def measure(recorder: Recorder, api: BenchApi, request: Request) -> tuple[Cost, ProxyResponse]:
    with recorder.measure() as calls:
        response = api.send(request)
    return Cost.of(calls), response
