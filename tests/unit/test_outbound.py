"""Outbound webhook HTTP: which URLs are refused (SSRF), and how a POST behaves against a real local server.

DNS names go through a fake resolver and every request goes to 127.0.0.1, so no test touches the network."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from taskboard.core.errors import InvalidRequest
from taskboard.core.limits import URL_MAX
from taskboard.core.outbound import Answer, Target, UnsafeUrl, check_url, check_url_form, parse_retry_after, post

# ---- check_url ----

UNSAFE = [
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "127.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
    "100.100.100.200",
    "192.0.0.192",
    "::a00:1",
    "64:ff9b:1::1",
]


def resolver_of(table: dict[str, list[str]]) -> Any:
    """A fake DNS: a name in `table` resolves to its addresses; any other name fails as getaddrinfo would."""
    calls: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} should not have been resolved")


def refusal(url: Any, **options: Any) -> str:
    with pytest.raises(UnsafeUrl) as caught:
        check_url(url, **options)
    return caught.value.message


def literal_url(address: str, scheme: str = "https") -> str:
    return f"{scheme}://[{address}]/hook" if ":" in address else f"{scheme}://{address}/hook"


# ---- check_url_form: contact URLs that are shown, never called ----


def form_refusal(url: Any, **options: Any) -> str:
    with pytest.raises(UnsafeUrl) as caught:
        check_url_form(url, **options)
    return caught.value.message


def test_a_contact_url_is_not_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # any DNS lookup fails the test
    check_url_form("https://agent.example.com")  # does not resolve anywhere: fine, nobody connects to it
    check_url_form("https://93.184.216.34:8443/agent")


@pytest.mark.parametrize("address", UNSAFE)
def test_a_contact_url_with_an_unsafe_literal_address_is_refused(address: str) -> None:
    assert address in form_refusal(literal_url(address))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://agent.example.com", "must use https"),
        ("https://user:pw@agent.example.com", "user name or password"),
        ("https://localhost:3000/", "loopback name"),
        ("https://api.localhost/", "loopback name"),
        ("https://2130706433/", "unusual IPv4 spelling"),
        ("https://bad_host!/", "not a valid host name"),
        ("ftp://agent.example.com", "must use https"),
        ("https://agent.example.com/\nx", "whitespace"),
    ],
)
def test_a_contact_url_of_the_wrong_form_is_refused(url: str, reason: str) -> None:
    assert reason in form_refusal(url)


def test_the_local_stack_admits_loopback_contact_urls_only() -> None:
    check_url_form("http://127.0.0.1:8123/", allow_loopback=True)
    check_url_form("http://localhost:8123/", allow_loopback=True)
    assert "loopback" in form_refusal("http://agent.example.com/", allow_loopback=True)


def test_unsafe_url_is_a_400_invalid_request_with_its_own_code() -> None:
    assert issubclass(UnsafeUrl, InvalidRequest)
    assert (UnsafeUrl.status, UnsafeUrl.code) == (400, "unsafe_url")


@pytest.mark.parametrize("address", UNSAFE)
def test_an_unsafe_ip_literal_is_refused_naming_it(address: str) -> None:
    assert address in refusal(literal_url(address), resolver=no_dns)


@pytest.mark.parametrize("address", UNSAFE)
def test_a_name_that_resolves_to_an_unsafe_address_is_refused_naming_it(address: str) -> None:
    message = refusal("https://hooks.example.com/x", resolver=resolver_of({"hooks.example.com": [address]}))
    assert f"resolves to {address}," in message


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.5", "a private address"),
        ("169.254.169.254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("::ffff:10.0.0.1", "IPv4-mapped form of 10.0.0.1, a private address"),
        ("2002:a00:1::1", "6to4 form of 10.0.0.1, a private address"),
        ("64:ff9b::a00:1", "NAT64 form of 10.0.0.1, a private address"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("127.0.0.1", "loopback"),
    ],
)
def test_the_refusal_says_why(address: str, reason: str) -> None:
    assert reason in refusal("https://a.example/", resolver=resolver_of({"a.example": [address]}))


def test_a_scoped_ipv6_address_is_refused() -> None:
    assert "scoped" in refusal("https://[fe80::1%25eth0]/", resolver=no_dns)
    assert "scoped" in refusal("https://a.example/", resolver=resolver_of({"a.example": ["fe80::1%eth0"]}))


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    resolve = resolver_of({"mixed.example": ["93.184.216.34", "10.0.0.5"]})
    assert "resolves to 10.0.0.5, a private address" in refusal("https://mixed.example/", resolver=resolve)


def test_a_name_that_does_not_resolve_is_refused() -> None:
    assert "could not be resolved" in refusal("https://nowhere.example/", resolver=resolver_of({}))
    assert "could not be resolved" in refusal("https://empty.example/", resolver=resolver_of({"empty.example": []}))


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "0x7f000001", "1.2.3.4.", "010.0.0.1"])
@pytest.mark.parametrize(("scheme", "allow_loopback"), [("https", False), ("http", True)])
def test_unusual_ipv4_spellings_are_refused_outright(host: str, scheme: str, allow_loopback: bool) -> None:
    message = refusal(f"{scheme}://{host}/", allow_loopback=allow_loopback, resolver=no_dns)
    assert "unusual IPv4 spelling" in message


def test_names_that_merely_start_with_digits_are_not_odd_spellings() -> None:
    resolve = resolver_of({"1e100.net": ["142.250.0.1"], "123.example": ["93.184.216.34"]})
    assert check_url("https://1e100.net/", resolver=resolve).addresses == ("142.250.0.1",)
    assert check_url("https://123.example/", resolver=resolve).addresses == ("93.184.216.34",)


@pytest.mark.parametrize("url", ["http://93.184.216.34/", "http://127.0.0.1:8080/", "http://hooks.example.com/"])
def test_plain_http_is_refused_without_allow_loopback(url: str) -> None:
    assert "must use https" in refusal(url, resolver=no_dns)


def test_plain_http_to_loopback_is_allowed_for_the_local_stack() -> None:
    target = check_url("http://127.0.0.1:8123/hook?x=1", allow_loopback=True, resolver=no_dns)
    assert target == Target(
        url="http://127.0.0.1:8123/hook?x=1",
        scheme="http",
        host="127.0.0.1",
        port=8123,
        path="/hook?x=1",
        addresses=("127.0.0.1",),
    )
    assert check_url("http://[::1]:8123/", allow_loopback=True, resolver=no_dns).addresses == ("::1",)


def test_allow_loopback_admits_only_loopback() -> None:
    assert "private" in refusal("http://10.0.0.1/", allow_loopback=True, resolver=no_dns)
    assert "private" in refusal("https://10.0.0.1/", allow_loopback=True, resolver=no_dns)
    assert "cloud metadata" in refusal("http://169.254.169.254/", allow_loopback=True, resolver=no_dns)
    public = resolver_of({"public.example": ["93.184.216.34"]})
    assert "loopback" in refusal("http://public.example/", allow_loopback=True, resolver=public)


def test_localhost_over_https_is_allowed_with_allow_loopback_only_if_it_resolves_to_loopback() -> None:
    loopback = resolver_of({"localhost": ["127.0.0.1", "::1"]})
    target = check_url("https://localhost:3000/", allow_loopback=True, resolver=loopback)
    assert (target.host, target.port, target.addresses) == ("localhost", 3000, ("127.0.0.1", "::1"))
    assert "loopback address" in refusal("https://localhost:3000/", resolver=loopback)
    rebound = resolver_of({"localhost": ["127.0.0.1", "10.1.2.3"]})
    assert "10.1.2.3" in refusal("https://localhost/", allow_loopback=True, resolver=rebound)


@pytest.mark.parametrize(
    "url", ["https://user:pass@hooks.example.com/", "https://user@hooks.example.com/", "https://@hooks.example.com/"]
)
def test_userinfo_is_refused(url: str) -> None:
    assert "user name or password" in refusal(url, resolver=no_dns)


def test_a_url_longer_than_the_limit_is_refused() -> None:
    url = "https://hooks.example.com/" + "a" * URL_MAX
    assert str(URL_MAX) in refusal(url, resolver=no_dns)


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "file:///etc/passwd", "gopher://hooks.example.com/", "hooks.example.com/x"]
)
def test_schemes_other_than_https_are_refused(url: str) -> None:
    assert "must use https" in refusal(url, resolver=no_dns)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https:///path", "no host"),
        ("https://[::1/", "malformed"),
        ("https://hooks.example.com:0/", "port"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://hooks.example.com:http/", "port"),
        ("https://hooks.example.com/a b", "whitespace"),
        ("https://hooks.exa\tmple.com/", "whitespace"),
        ("https://hooks.example.com/\r\nX-Injected: 1", "whitespace"),
        ("https://hooks.example.com/\x00", "control"),
        ("https://hööks.example.com/", "non-ASCII"),
        ("https://hooks%2eexample.com/", "not a valid host name"),
        ("https://hooks.example.com\\@10.0.0.1/", "user name or password"),
        ("https://[v1.fe80::a]/", "not a valid IPv6 address"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url: str, expected: str) -> None:
    assert expected in refusal(url, resolver=no_dns)


def test_a_non_string_url_is_refused() -> None:
    assert "string" in refusal(b"https://hooks.example.com/")


def test_a_public_name_is_accepted_with_its_target() -> None:
    resolve = resolver_of({"hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"]})
    target = check_url("https://Hooks.Example.com/a/b?c=d&e=f#frag", resolver=resolve)
    assert target == Target(
        url="https://Hooks.Example.com/a/b?c=d&e=f#frag",
        scheme="https",
        host="hooks.example.com",
        port=443,
        path="/a/b?c=d&e=f",
        addresses=("93.184.216.34", "2606:2800:220:1::1"),
    )
    assert resolve.calls == [("hooks.example.com", 443)]


def test_a_public_ip_literal_is_accepted_without_resolving() -> None:
    assert check_url("https://1.1.1.1", resolver=no_dns) == Target(
        url="https://1.1.1.1", scheme="https", host="1.1.1.1", port=443, path="/", addresses=("1.1.1.1",)
    )
    target = check_url("https://[2606:4700:4700::1111]:8443/x", resolver=no_dns)
    assert (target.host, target.port, target.addresses) == ("2606:4700:4700::1111", 8443, ("2606:4700:4700::1111",))


@pytest.mark.parametrize("address", ["::ffff:1.1.1.1", "2002:101:101::1", "64:ff9b::101:101"])
def test_ipv6_forms_of_a_public_ipv4_address_are_accepted(address: str) -> None:
    assert check_url(literal_url(address), resolver=no_dns).addresses


# ---- Retry-After ----

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("7", 7.0),
        (" 0 ", 0.0),
        ("-1", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        ("Sun, 22 Nov 2026 12:02:00 GMT", 120.0),
        ("Sun, 22 Nov 2026 11:00:00 GMT", 0.0),
        ("Sunday, 22-Nov-26 12:00:30 GMT", 30.0),
    ],
)
def test_retry_after_takes_seconds_or_an_http_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


# ---- post, against a real server on 127.0.0.1 ----


class Recorder(BaseHTTPRequestHandler):
    """Answers by path; records each request it got (path, headers, body) on the server."""

    server: Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.received.append((self.path, dict(self.headers.items()), body))
        if self.path == "/slow":
            time.sleep(2)
        status, headers, reply = self.server.replies.get(self.path, (200, {}, b"echo: " + body))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        with contextlib.suppress(ConnectionError):  # the client may rightly stop reading (timeout, size cap)
            self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Recorder)
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.replies: dict[str, tuple[int, dict[str, str], bytes]] = {}

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def serve(server: Server) -> Iterator[Server]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[Server]:
    yield from serve(Server())


def local(
    port: int, path: str = "/hook", host: str = "127.0.0.1", addresses: tuple[str, ...] = ("127.0.0.1",)
) -> Target:
    return Target(
        url=f"http://{host}:{port}{path}", scheme="http", host=host, port=port, path=path, addresses=addresses
    )


def test_post_sends_exactly_the_body_and_headers_and_reads_the_answer(server: Server) -> None:
    body = b'{"event": "task.completed", "n": 1}'
    headers = {"Content-Type": "application/json", "X-Board-Signature": "sha256=abc", "Host": "evil.example"}
    answer = post(local(server.port, "/hook?x=1"), body, headers)
    assert answer == Answer(status=200, error=None, retry_after=None, body_excerpt="echo: " + body.decode())
    ((path, got, received),) = server.received
    assert (path, received) == ("/hook?x=1", body)
    assert got["Host"] == f"127.0.0.1:{server.port}"
    assert got["Content-Length"] == str(len(body))
    assert got["Content-Type"] == "application/json"
    assert got["X-Board-Signature"] == "sha256=abc"


def test_only_the_first_200_characters_of_the_body_are_kept(server: Server) -> None:
    server.replies["/big"] = (500, {}, ("é" * 100_000).encode())
    answer = post(local(server.port, "/big"), b"", {})
    assert (answer.status, answer.body_excerpt) == (500, "é" * 200)


def test_a_503_with_retry_after_seconds(server: Server) -> None:
    server.replies["/busy"] = (503, {"Retry-After": "7"}, b"busy")
    answer = post(local(server.port, "/busy"), b"{}", {})
    assert answer == Answer(status=503, error=None, retry_after=7.0, body_excerpt="busy")


def test_a_429_with_an_http_date_retry_after(server: Server) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    server.replies["/limited"] = (429, {"Retry-After": when}, b"")
    answer = post(local(server.port, "/limited"), b"{}", {})
    assert answer.status == 429
    assert answer.retry_after is not None and 100 < answer.retry_after <= 120


def test_a_redirect_is_an_answer_not_followed(server: Server) -> None:
    server.replies["/moved"] = (302, {"Location": f"http://127.0.0.1:{server.port}/elsewhere"}, b"")
    answer = post(local(server.port, "/moved"), b"{}", {})
    assert (answer.status, answer.error) == (302, None)
    assert [path for path, _, _ in server.received] == ["/moved"]


def test_a_server_slower_than_the_timeout_is_a_timeout(server: Server) -> None:
    started = time.monotonic()
    answer = post(local(server.port, "/slow"), b"{}", {}, timeout=0.5)
    assert answer.status is None and answer.error == "timed out after 0.5 s"
    assert time.monotonic() - started < 1.5


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_is_an_answer_not_an_exception() -> None:
    answer = post(local(closed_port()), b"{}", {})
    assert answer == Answer(status=None, error="connection refused", retry_after=None, body_excerpt="")


def test_the_first_address_that_connects_is_used(server: Server) -> None:
    # The server listens on 127.0.0.1 only, so 127.0.0.2 refuses and the next address is tried.
    answer = post(local(server.port, addresses=("127.0.0.2", "127.0.0.1")), b"{}", {})
    assert answer.status == 200


def test_the_name_is_never_resolved_only_the_checked_address_is_used(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answer = post(local(server.port, host="example.invalid"), b"{}", {})
    assert answer.status == 200
    assert server.received[0][1]["Host"] == f"example.invalid:{server.port}"
    assert "example.invalid" not in looked_up


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (Target("https://x/", "https", "x", 443, "/", ("10.0.0.1",)), "10.0.0.1 is a private address"),
        (Target("https://x/", "https", "x", 443, "/", ("169.254.169.254",)), "cloud metadata"),
        (Target("https://x/", "https", "x", 443, "/", ("x.example",)), "not an IP address"),
        (Target("https://x/", "https", "x", 443, "/", ()), "no checked address"),
        (Target("http://x/", "http", "x", 80, "/", ("93.184.216.34",)), "plain http"),
        (Target("ftp://x/", "ftp", "x", 21, "/", ("127.0.0.1",)), "scheme ftp"),
    ],
)
def test_post_blocks_a_target_that_check_url_would_not_have_made(target: Target, why: str) -> None:
    answer = post(target, b"{}", {})
    assert answer.status is None and answer.error is not None
    assert answer.error.startswith("blocked: ") and why in answer.error


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[Server]:
    """The same server over TLS with a self-signed certificate for "localhost", which we must not trust."""
    from datetime import timedelta

    from cryptography import x509  # installed with moto
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(private, hashes.SHA256())
    )
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Server()
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from serve(server)


def test_https_verifies_the_certificate(tls_server: Server) -> None:
    target = Target("https://localhost/", "https", "localhost", tls_server.port, "/", ("127.0.0.1",))
    answer = post(target, b"{}", {})
    assert answer.status is None and answer.error is not None
    assert answer.error.startswith("TLS error: certificate verify failed")
    assert tls_server.received == []
