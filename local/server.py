"""`make run`: the API on http://127.0.0.1:3000 (PORT overrides), every route of template.yaml, on moto.

No AWS account and no Docker: the handlers run in this process, each request as the proxy event API Gateway
would send. GET /docs (the API reference) and GET /openapi.json are routes of the template like the others;
GET /_local/audit is `make audit` for this stack (the tables live in this process, so the audit runs here)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local.stack import Stack

# API Gateway's own limit on a request body (a handler refuses far less: taskboard.core.limits.BODY_MAX_BYTES).
GATEWAY_BODY_MAX = 10 * 1024 * 1024


class _Refused(Exception):
    """A request the server refuses before any handler sees it, answered in the API's one error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def make_handler(stack: Stack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AgentTaskBoardLocal/1.0"

        def _serve(self) -> None:
            url = urlsplit(self.path)
            try:
                body = self._body()
            except _Refused as refused:
                self._error(refused.status, refused.code, refused.message)
                self.close_connection = True  # what is left of the body cannot be told from the next request
                return
            if self.command == "GET" and url.path == "/_local/audit":  # `make audit`: the table lives in here
                self._send(200, {"Content-Type": "application/json"}, _audit(stack))
                return
            headers = {name: value for name, value in self.headers.items()}
            response = stack.invoke(
                self.command, url.path, headers=headers, query=url.query, body=body, source_ip=self.client_address[0]
            )
            self._send(response.status, response.headers, response.body)

        def _body(self) -> bytes | None:
            """The request body: Content-Length or chunked, at most API Gateway's 10 MB."""
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._chunked()
            text = self.headers.get("Content-Length")
            if text is None:
                return None
            if not text.strip().isdigit():
                raise _Refused(400, "bad_request", f"Content-Length {text!r} is not a number of bytes.")
            length = int(text)
            if length > GATEWAY_BODY_MAX:
                raise _Refused(413, "payload_too_large", "Request body is too large.")
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                raise _Refused(400, "bad_request", "The body is shorter than its Content-Length.")
            return body or None

        def _chunked(self) -> bytes | None:
            parts: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    chunk = int(line, 16)
                except ValueError:
                    raise _Refused(400, "bad_request", "A chunk of the chunked body has no valid size.") from None
                if chunk == 0:
                    while self.rfile.readline(1024).strip():  # trailers, then the blank line that ends the body
                        pass
                    return b"".join(parts) or None
                size += chunk
                if size > GATEWAY_BODY_MAX:
                    raise _Refused(413, "payload_too_large", "Request body is too large.")
                parts.append(self.rfile.read(chunk))
                self.rfile.readline(1024)  # the CRLF after each chunk

        def _error(self, status: int, code: str, message: str) -> None:
            body = {"error": message, "code": code, "request_id": str(uuid.uuid4())}
            self._send(status, {"Content-Type": "application/json"}, json.dumps(body))

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """What http.server answers by itself (a malformed request line or header, a URI too long): the
            API's error shape, not an HTML page."""
            self.close_connection = True
            self.request_version = "HTTP/1.1"  # a request line that did not parse leaves 0.9: no status line
            kinds = {400: "bad_request", 414: "uri_too_long", 431: "headers_too_large", 501: "not_found"}
            self._error(code if code != 501 else 404, kinds.get(code, "gateway_error"), message or "Bad request.")

        def _send(self, status: int, headers: dict[str, str], text: str) -> None:
            payload = text.encode()
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has the headers of a body, and no body
                self.wfile.write(payload)

        # Every method goes to the router, as at API Gateway: one the template has no route for gets its 404.
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = do_CONNECT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            if os.environ.get("QUIET") != "1":
                sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def _audit(stack: Stack) -> str:
    import boto3

    from scripts.audit import audit

    dynamodb = boto3.client("dynamodb", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    report = audit(dynamodb, stack.names.get("TasksTable", "TasksTable"))
    return json.dumps({"ok": report.ok, "report": report.text()})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Python's default listen backlog is 5: a burst of agents (16 racing claimers) would see connection resets.
    request_queue_size = 128


class LocalServer:
    """The HTTP server around a started Stack; `serve_in_thread` is what the end-to-end tests use."""

    def __init__(self, stack: Stack, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.stack = stack
        self.httpd = _Server((host, port), make_handler(stack))
        self.url = f"http://{host}:{self.httpd.server_address[1]}"

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.httpd.serve_forever, name="local-api", daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# Settings `make run` takes from its environment (the deployed stack takes them from template parameters).
SETTABLE = (
    "RATE_LIMIT_PER_MINUTE",
    "POLL_RATE_LIMIT_PER_MINUTE",
    "SIGNUP_LIMIT_PER_HOUR",
    "OPEN_REGISTRATION",
    "AUTHORIZER_CACHE_SECONDS",
    "SIGNUP_GRANT",
    "GRANTED_AGENTS_PER_OWNER",
    "FEE_PERCENT",
)


# `make run` serves one person on one machine: every agent and every sign-up comes from 127.0.0.1, and the
# deployed limits (60 requests a minute, 5 sign-ups an hour per address) would be used up by the README alone.
ONE_MACHINE_LIMITS = {
    "RATE_LIMIT_PER_MINUTE": "600",
    "POLL_RATE_LIMIT_PER_MINUTE": "1200",
    "SIGNUP_LIMIT_PER_HOUR": "100",
}


def local_environment(environ: dict[str, str]) -> dict[str, str]:
    """The settings `make run` starts the stack with: the one-machine limits (unless DEPLOYED_LIMITS=1 asks for
    the template's defaults), then whatever SETTABLE variable the caller set."""
    chosen = {} if environ.get("DEPLOYED_LIMITS") == "1" else dict(ONE_MACHINE_LIMITS)
    return chosen | {name: environ[name] for name in SETTABLE if name in environ}


def banner(stack: Stack, url: str, deployed_limits: bool, operator_key: str | None = None) -> str:
    routes = "\n".join(f"  {r.method:6} {r.path}" for r in sorted(stack.routes, key=lambda r: (r.path, r.method)))
    limits = (
        "the deployed defaults (DEPLOYED_LIMITS=1)"
        if deployed_limits
        else "for one machine; DEPLOYED_LIMITS=1 make run for the deployed defaults"
    )
    settings = "".join(f"  {name}={os.environ[name]}\n" for name in SETTABLE)
    operator = (
        f"Operator key (settles disputes; `make operator-key` makes one when deployed):\n  {operator_key}\n\n"
        if operator_key
        else ""
    )
    return (
        f"Agent Task Board (local, on moto) at {url}\n{routes}\n\n"
        f"API reference: {url}/docs\n\n"
        f"Settings (rate limits {limits}):\n{settings}\n"
        f"{operator}"
        f'Try:\n  curl -s -X POST {url}/keys -d \'{{"name": "me"}}\'\n'
        "Ctrl-C stops it."
    )


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    with Stack(environment=local_environment(dict(os.environ))) as stack:
        server = LocalServer(stack, os.environ.get("HOST", "127.0.0.1"), port)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        # Ctrl-C stops it even when started from a script that left SIGINT ignored (background jobs do).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        operator_key, _ = stack.operator_key()
        print(banner(stack, server.url, os.environ.get("DEPLOYED_LIMITS") == "1", operator_key), flush=True)
        try:
            server.httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
            print("\nstopped", flush=True)


if __name__ == "__main__":
    main()
    sys.exit(0)
