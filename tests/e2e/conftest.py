"""The local stack behind a real HTTP server on a free port, for the tests that drive it over the wire.

Module scope: one server per test module. moto's mock_aws is process-global, so only one Stack may be active
at a time; pytest finishes a module (and its module fixtures) before it starts the next, so this stack is
stopped before any other module's function-scoped `stack` fixture starts one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests

from local.server import LocalServer
from local.stack import Stack
from tests.conftest import TEST_ENVIRONMENT
from tests.support import Agent


@dataclass(frozen=True)
class Live:
    """A running local API: its base URL and the stack behind it."""

    url: str
    stack: Stack

    def new_agent(self, name: str = "agent") -> Agent:
        response = requests.post(f"{self.url}/keys", json={"name": name}, timeout=60)
        assert response.status_code == 201, response.text
        data = response.json()
        return Agent(key=data["key"], id=data["id"])


@contextmanager
def serve(environment: dict[str, str]) -> Iterator[Live]:
    """The local stack with `environment`, behind an HTTP server on a free port."""
    quiet = os.environ.get("QUIET")
    os.environ["QUIET"] = "1"  # no access log line per request in the test output
    with Stack(environment=environment) as stack:
        server = LocalServer(stack, "127.0.0.1", 0)
        thread = server.serve_in_thread()
        try:
            port = server.httpd.server_address[1]
            assert port != 0 and server.url == f"http://127.0.0.1:{port}", server.url
            yield Live(url=server.url, stack=stack)
        finally:
            server.shutdown()
            thread.join(timeout=60)
            if quiet is None:
                os.environ.pop("QUIET", None)
            else:
                os.environ["QUIET"] = quiet


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with serve(dict(TEST_ENVIRONMENT)) as started:
        yield started
