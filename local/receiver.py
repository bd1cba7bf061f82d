"""`make receiver`: a webhook endpoint on this machine that verifies and prints every delivery it gets.

Point a subscription of the local stack at it (`{"url": "http://127.0.0.1:4000/hooks"}`; the local stack admits
loopback URLs) and each signed delivery is checked as any Standard Webhooks receiver would check it, then
printed on one line. The secrets it verifies with are those in WEBHOOK_SECRETS (comma-separated) and those in the
file `.webhook-secrets` of the directory it runs in (one per line, read again at every delivery, so a secret
saved after the receiver started counts). A delivery no secret verifies is answered 401 and printed as refused,
so the stack's retries and delivery log can be tried out too.

Only for the local stack: it is not part of the deployed API."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SECRETS_FILE = ".webhook-secrets"


def known_secrets(directory: Path) -> list[str]:
    """The secrets to verify with, from the environment and the secrets file (missing file: none from it)."""
    secrets = [s.strip() for s in os.environ.get("WEBHOOK_SECRETS", "").split(",") if s.strip()]
    path = directory / SECRETS_FILE
    if path.exists():
        secrets += [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return list(dict.fromkeys(secrets))


def verify(body: bytes, headers: dict[str, str], secrets: list[str]) -> dict[str, Any] | None:
    """The event if one of `secrets` signed this delivery (and it is fresh), else None."""
    from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

    for secret in secrets:
        try:
            return Webhook(secret).verify(body, headers)  # type: ignore[no-any-return]
        except (WebhookVerificationError, EmptyWebhookSecretError, RuntimeError, ValueError):
            continue  # not this secret (or not a secret at all: RuntimeError "Invalid webhook secret")
    return None


def describe(event: dict[str, Any]) -> str:
    """One line a person can read: the event, its task and that task's status."""
    data = event.get("data") or {}
    task = data.get("task") or {}
    parts = [str(event.get("type")), str(event.get("id"))]
    if task:
        parts.append(f"task={task.get('id')} status={task.get('status')}")
    if data.get("cause"):
        parts.append(f"cause={data['cause']}")
    return " ".join(parts)


def make_handler(directory: Path, out: Callable[[str], None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            event = verify(body, headers, known_secrets(directory))
            if event is None:
                out(f"refused  {headers.get('webhook-id', '?')}: no known secret verifies it (see {SECRETS_FILE})")
                self._answer(401, {"error": "signature not verified"})
                return
            out(f"verified {describe(event)}")
            self._answer(200, {"ok": True})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per delivery is printed above; no access log

    return Handler


def main() -> None:
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("RECEIVER_PORT", "4000"))
    directory = Path.cwd()
    server = ThreadingHTTPServer((host, port), make_handler(directory, lambda line: print(line, flush=True)))
    print(
        f"Webhook receiver at http://{host}:{server.server_address[1]}/hooks\n"
        f"verifying with WEBHOOK_SECRETS and the secrets in {directory / SECRETS_FILE} (one per line)\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
    sys.exit(0)
