"""The local server answers every method and every malformed request in the API's one JSON error shape, and reads
bodies the ways HTTP sends them (Content-Length and chunked), as API Gateway does in front of the deployed API."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Live

pytestmark = pytest.mark.e2e


def exchange(live: Live, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read one whole answer (the server closes or says how long it is)."""
    address = urlsplit(live.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536) or b"\r\n\r\n"
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
        length = int(headers.get("content-length", "0"))
        while len(body) < length and not raw.startswith(b"HEAD"):
            more = connection.recv(65536)
            if not more:
                break
            body += more
    return int(status_line.split()[1]), headers, body


def error_of(body: bytes) -> dict[str, Any]:
    payload = json.loads(body)
    assert set(payload) >= {"error", "code", "request_id"}, payload
    return payload  # type: ignore[no-any-return]


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "CONNECT", "PUT"])
def test_a_method_with_no_route_gets_the_json_404(live: Live, method: str) -> None:
    status, headers, body = exchange(live, f"{method} /tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    assert status == 404 and headers["content-type"] == "application/json"
    assert error_of(body)["code"] == "not_found"


def test_head_gets_headers_and_no_body(live: Live) -> None:
    status, headers, body = exchange(live, b"HEAD /tasks HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 404 and headers["content-type"] == "application/json" and body == b""


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"POST /keys HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400, "bad_request"),
        (b"POST /keys HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}", 400, "bad_request"),
        (b"POST /keys HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}", 413, "payload_too_large"),
        (b"THIS IS NOT HTTP\r\n\r\n", 400, "bad_request"),
        (
            b"POST /keys HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            400,
            "bad_request",
        ),
    ],
)
def test_a_malformed_request_gets_the_json_error_shape(live: Live, raw: bytes, status: int, code: str) -> None:
    got, headers, body = exchange(live, raw)
    assert got == status and headers["content-type"] == "application/json"
    assert error_of(body)["code"] == code


def test_a_chunked_body_is_read_whole(live: Live) -> None:
    payload = b'{"name": "sent in chunks"}'
    chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (payload[:10], payload[10:]))
    raw = b"POST /keys HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    status, _, body = exchange(live, raw)
    assert status == 201, body
    assert json.loads(body)["key"].startswith("atb_")
