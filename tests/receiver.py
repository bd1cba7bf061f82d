"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records every request and answers with
whatever the test scripted (status codes, Retry-After), 200 once the script runs out."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.failing: dict[str, list[int]] = {}  # event type -> statuses for its next deliveries
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                    try:
                        scripted = receiver.failing.get(json.loads(body).get("type"), [])
                    except (ValueError, AttributeError):
                        scripted = []
                    if scripted:
                        status = scripted.pop(0)
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body, status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer(self, *statuses: int | tuple[int, dict[str, str]]) -> None:
        """The next answers, in order (then 200s)."""
        with self._lock:
            self.script.extend(s if isinstance(s, tuple) else (s, {}) for s in statuses)

    def fail(self, event_type: str, *statuses: int) -> None:
        """Answer the next deliveries of `event_type` with these statuses (whatever else comes in between)."""
        with self._lock:
            self.failing.setdefault(event_type, []).extend(statuses)

    def wait_for(self, done: Callable[[list[Received]], bool], timeout: float = 60) -> list[Received]:
        """Wait until `done(received so far)`; fail after `timeout` seconds (a bound on a hang, not a speed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                seen = list(self.received)
            if done(seen):
                return seen
            time.sleep(0.05)
        raise AssertionError(f"receiver waited {timeout} s; got {[r.json().get('type') for r in seen]}")

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.json() for r in self.received if 200 <= r.answered < 300]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
