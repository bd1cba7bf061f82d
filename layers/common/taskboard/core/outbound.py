"""Outbound HTTP for webhooks, without server-side request forgery (SSRF).

A webhook URL is chosen by an agent, so a naive POST to it would let anyone make our Lambda call cloud metadata
endpoints, VPC services or localhost. `check_url` parses the URL, resolves its host once and refuses it unless
every address is public; `post` then connects only to those checked addresses (never resolving the name again,
so DNS rebinding between check and connect cannot swap in a private address), verifies TLS against the original
host name, and never follows redirects (a redirect is the classic way around a URL check).

Standard library only: the layer stays small and no HTTP client library can re-resolve or redirect behind our
back."""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, urlsplit

from taskboard.core.errors import UnsafeUrl
from taskboard.core.limits import URL_MAX

__all__ = ["Answer", "Resolver", "Target", "UnsafeUrl", "check_url", "parse_retry_after", "post"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# host, port -> IP address strings. Injectable so tests (and callers with their own DNS) need no network.
Resolver = Callable[[str, int], list[str]]

DEFAULT_PORTS = {"https": 443, "http": 80}
RESPONSE_MAX_BYTES = 64 * 1024  # enough for any error page worth reading; a hostile endless body is cut off
EXCERPT_CHARS = 200

# Mostly non-global already, but named explicitly so the refusal says why (and 192.0.0.192 counts as global).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: inside a provider's network
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64: the last 32 bits are the IPv4 reached
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215): a private translator
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d form
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")

_HOSTNAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


@dataclass(frozen=True)
class Target:
    url: str  # the URL as given
    scheme: str  # "https" or "http"
    host: str  # hostname as in the URL (lowercased; IPv6 without brackets)
    port: int
    path: str  # path + "?query" (at least "/")
    addresses: tuple[str, ...]  # the resolved IP addresses, all checked safe


@dataclass(frozen=True)
class Answer:
    status: int | None  # HTTP status, or None when no answer (error set)
    error: str | None  # e.g. "timed out after 10 s", "connection refused", "TLS error: ...", "blocked: ..."
    retry_after: float | None  # seconds from a Retry-After header; None if absent or invalid
    body_excerpt: str  # first 200 chars of the response body, decoded leniently


# ---- checking a URL ----


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, duplicates dropped, order kept (the order to try)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in found if info[0] in (socket.AF_INET, socket.AF_INET6)]
    return list(dict.fromkeys(addresses))


def check_url(url: str, *, allow_loopback: bool = False, resolver: Resolver | None = None) -> Target:
    """Parse, validate and resolve. Raises UnsafeUrl with a clear human message saying what is wrong.

    `allow_loopback` is for the local development stack only: it admits loopback addresses and plain http to
    them (http://127.0.0.1:PORT/...). Everything else must be https to public addresses."""
    parts, scheme, host, port, literal = _checked_form(url, allow_loopback)
    if literal is not None:  # nothing to resolve: the address is the host
        addresses = [str(literal)]
    else:
        addresses = _resolve(host, port, resolver or system_resolver)
        for address in addresses:
            _refuse_if_unsafe(address, f"The URL's host {host} resolves to {address},", allow_loopback)
    if scheme == "http" and not all(_is_loopback(ipaddress.ip_address(a)) for a in addresses):
        raise UnsafeUrl("The URL must use https; plain http is only allowed to loopback addresses.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")  # the fragment is never sent
    return Target(url=url, scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


def check_url_form(url: str, *, allow_loopback: bool = False) -> None:
    """The checks of `check_url` that need no DNS: for URLs the board only shows (a profile's contact URLs) and
    never connects to. https, no credentials, a valid host name or a public literal address. Whoever connects
    to such a URL later checks it in full then (the SSRF check belongs where the connection is made)."""
    _, scheme, host, _, literal = _checked_form(url, allow_loopback)
    if literal is None and (host == "localhost" or host.endswith(".localhost")) and not allow_loopback:
        raise UnsafeUrl(f"The URL's host {host} is a loopback name.")
    if scheme == "http" and not (host == "localhost" or (literal is not None and _is_loopback(literal))):
        raise UnsafeUrl("The URL must use https; plain http is only allowed to loopback addresses.")


def _checked_form(url: str, allow_loopback: bool) -> tuple[SplitResult, str, str, int, IPAddress | None]:
    """(parts, scheme, host, port, the host's address if it is a literal one), or UnsafeUrl."""
    if not isinstance(url, str):
        raise UnsafeUrl("The URL must be a string.")
    if len(url) > URL_MAX:
        raise UnsafeUrl(f"The URL is longer than {URL_MAX} characters.")
    if any(not ch.isascii() or not ch.isprintable() or ch.isspace() for ch in url):
        # urlsplit silently drops tabs and newlines, and non-ASCII hosts invite look-alikes: refuse, don't repair.
        raise UnsafeUrl(
            "The URL contains whitespace, control or non-ASCII characters (percent-encode the path and "
            "use the xn-- form of an international host name)."
        )
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise UnsafeUrl(f"The URL is malformed: {error}.") from None
    try:
        port = parts.port
    except ValueError:
        port = 0
    scheme = parts.scheme
    if scheme not in DEFAULT_PORTS:
        raise UnsafeUrl(f"The URL must use https, not {scheme or 'no scheme'}.")
    if scheme == "http" and not allow_loopback:
        raise UnsafeUrl("The URL must use https, not http.")
    if "@" in parts.netloc:
        raise UnsafeUrl("The URL must not contain a user name or password.")
    host = parts.hostname or ""
    if not host:
        raise UnsafeUrl("The URL has no host.")
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif not 1 <= port <= 65_535:
        raise UnsafeUrl("The URL's port must be a number from 1 to 65535.")
    literal = _literal_address(host)
    if literal is not None:
        _refuse_if_unsafe(str(literal), f"The URL's host {host} is", allow_loopback)
    elif not _HOSTNAME.fullmatch(host) or len(host) > 253:
        raise UnsafeUrl(f"The URL's host {host} is not a valid host name.")
    return parts, scheme, host, port, literal


def _literal_address(host: str) -> IPAddress | None:
    """The address if `host` is an IP literal; refuses numeric spellings other than a plain dotted quad.

    "2130706433", "0x7f.1", "0177.0.0.1" and "127.1" all mean 127.0.0.1 to inet_aton. The resolved addresses
    are checked anyway, but no real webhook is spelt like that, so refusing them outright costs nothing."""
    if ":" in host:  # only an IPv6 literal (urlsplit took it out of brackets) can contain a colon
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeUrl(f"The URL's host {host} is not a valid IPv6 address.") from None
    labels = host.split(".")
    if any(labels) and all(not label or _NUMERIC_LABEL.fullmatch(label) for label in labels):
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            address = None
        if address is None or str(address) != host:
            raise UnsafeUrl(f"The URL's host {host} is an unusual IPv4 spelling; write it as a dotted quad.")
        return address
    return None


def _resolve(host: str, port: int, resolver: Resolver) -> list[str]:
    try:
        addresses = list(dict.fromkeys(resolver(host, port)))
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        raise UnsafeUrl(f"The URL's host {host} could not be resolved.")
    return addresses


def _refuse_if_unsafe(address: str, subject: str, allow_loopback: bool) -> None:
    try:
        reason = why_unsafe(ipaddress.ip_address(address), allow_loopback=allow_loopback)
    except ValueError:
        reason = "not an IP address"
    if reason:
        raise UnsafeUrl(f"{subject} {reason}.", address=address)


def why_unsafe(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why connecting to `ip` is refused ("a private address", ...), or None if it is a public address.

    An IPv6 address that carries an IPv4 one (mapped, compatible, 6to4, NAT64) reaches that IPv4 address, so it
    is judged by it: ::ffff:127.0.0.1 is loopback however global the IPv6 form looks."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped IPv6 address"
        form, embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = why_unsafe(embedded, allow_loopback=allow_loopback)
            return f"{form} of {embedded}, {reason}" if reason else None
        if ip in _NAT64_LOCAL:
            return "a local-use NAT64 address"
    if ip in _METADATA:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    checks: list[tuple[bool, str]] = [
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_link_local, "a link-local address"),
        (ip == _BROADCAST, "the broadcast address"),
        (ip in _SHARED, "a shared (carrier-grade NAT) address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    ]
    return next((reason for failed, reason in checks if failed), None)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address | None]:
    """The IPv4 address an IPv6 one actually reaches, and what kind of form it is; (..., None) if none."""
    if ip.ipv4_mapped is not None:
        return "an IPv4-mapped form", ip.ipv4_mapped
    if ip.sixtofour is not None:
        return "a 6to4 form", ip.sixtofour
    if ip in _NAT64:
        return "a NAT64 form", ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves, not IPv4
        return "an IPv4-compatible form", ipaddress.IPv4Address(int(ip))
    return "", None


def _is_loopback(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)[1]
        if embedded is not None:
            return embedded.is_loopback
    return ip.is_loopback


# ---- posting ----


class _Deadline:
    """One time budget for connect and read together: each socket wait gets what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self._end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        return remaining


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the first of the checked addresses that answers, never to whatever the name resolves to now."""

    def __init__(self, target: Target, deadline: _Deadline) -> None:
        super().__init__(target.host, target.port, timeout=deadline.seconds)
        self.target = target
        self.deadline = deadline

    def _open_socket(self) -> socket.socket:
        last: OSError = ConnectionError("no address to connect to")
        addresses = self.target.addresses
        for index, address in enumerate(addresses):
            # An equal share of what is left, so one black-holed address cannot starve the others.
            share = self.deadline.left() / (len(addresses) - index)
            try:
                return socket.create_connection((address, self.target.port), share)
            except OSError as error:
                last = error
        raise last

    def connect(self) -> None:
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS over the pinned socket, verified against the URL's host name (SNI and certificate check)."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, target: Target, deadline: _Deadline) -> None:
        super().__init__(target, deadline)
        self.context = ssl.create_default_context()

    def connect(self) -> None:
        raw = self._open_socket()
        try:
            self.sock = self.context.wrap_socket(raw, server_hostname=self.target.host)
        except BaseException:
            raw.close()
            raise


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float = 10.0) -> Answer:
    """POST body to the target, connecting ONLY to target.addresses (the checked IPs, first that connects), never
    re-resolving the name (defeats DNS rebinding). For https, TLS with certificate verification and SNI/hostname
    check against target.host. No redirects followed (a 3xx is just an answer). Never raises for network
    problems: returns Answer(status=None, error=...).

    Host, Content-Length and Connection are set here and override the caller's; a malformed header name or
    value is a caller bug and raises ValueError."""
    blocked = _blocked(target)
    if blocked:
        return Answer(status=None, error=f"blocked: {blocked}", retry_after=None, body_excerpt="")
    deadline = _Deadline(timeout)
    connection_type = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_type(target, deadline)
    try:
        connection.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", _host_header(target))
        for name, value in headers.items():
            if name.lower() not in ("host", "content-length", "transfer-encoding", "connection"):
                connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Connection", "close")
        try:
            connection.endheaders(body)
            if connection.sock is not None:
                connection.sock.settimeout(deadline.left())
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            return Answer(status=None, error=_describe(error, timeout), retry_after=None, body_excerpt="")
        return Answer(
            status=response.status,
            error=None,
            retry_after=parse_retry_after(response.getheader("Retry-After")),
            body_excerpt=_read_excerpt(connection, response, deadline),
        )
    finally:
        connection.close()


def _blocked(target: Target) -> str | None:
    """Defence in depth for a Target not made by check_url: refuse non-IP, non-public or wrongly-schemed ones.

    Loopback passes (check_url only lets it through with allow_loopback, and tests post to a local server)."""
    if target.scheme not in DEFAULT_PORTS:
        return f"scheme {target.scheme} is not allowed"
    if not target.addresses:
        return "no checked address to connect to"
    for address in target.addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return f"{address} is not an IP address"
        reason = why_unsafe(ip, allow_loopback=True)
        if reason:
            return f"{address} is {reason}"
        if target.scheme == "http" and not _is_loopback(ip):
            return f"plain http to {address}, which is not a loopback address"
    return None


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == DEFAULT_PORTS.get(target.scheme) else f"{host}:{target.port}"


def _read_excerpt(
    connection: http.client.HTTPConnection, response: http.client.HTTPResponse, deadline: _Deadline
) -> str:
    """Up to RESPONSE_MAX_BYTES of the body, as text. The status is the answer; a body that stalls, breaks off or
    is not UTF-8 only shortens or garbles the excerpt."""
    data = b""
    try:
        while len(data) < RESPONSE_MAX_BYTES:
            if connection.sock is not None:
                connection.sock.settimeout(deadline.left())
            chunk = response.read(RESPONSE_MAX_BYTES - len(data))
            if not chunk:
                break
            data += chunk
    except (OSError, http.client.HTTPException):
        pass
    return data.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _describe(error: BaseException, timeout: float) -> str:
    """A short, stable description of a network failure, for the delivery log an agent reads."""
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS error: certificate verify failed: {error.verify_message or error.reason}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {error.reason or error}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, http.client.RemoteDisconnected):
        return "connection closed without a response"
    if isinstance(error, http.client.HTTPException):
        return f"invalid HTTP response ({type(error).__name__})"
    if isinstance(error, OSError) and error.strerror:
        return f"network error: {error.strerror.lower()}"
    return f"network error: {error}"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (a past date is 0). None if absent
    or unparseable, so a junk header just means "use your own backoff"."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC without a claim about local time
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
