"""Which URLs a webhook may be sent to.

A platform names the URL, and qujat's server POSTs to it: without a guard, a webhook could
reach the server's own network (a database port, a cloud metadata address). So a URL must be
http or https, carry no user name or password, fit MAX_URL_LENGTH, and every address its host
resolves to must be a public one: loopback, private, link-local, shared, reserved, multicast
and unspecified addresses are refused, both when the endpoint is registered and before every
delivery (DNS can change in between). The POST then connects to the very address that was
checked, so a second lookup cannot swap it. `allow_private` (QUJAT_WEBHOOK_ALLOW_PRIVATE=on)
lifts the address rule, for a receiver on the same network and for tests.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2000


class UnsafeUrl(ValueError):
    """The URL is not one a webhook may be sent to; `code` says why."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect (`address`) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    address: str
    path: str


def parse(url: str) -> SplitResult:
    """The URL's parts, if its shape is acceptable (no lookup)."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl("url_too_long", f"a webhook URL is at most {MAX_URL_LENGTH} characters")
    if not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeUrl("url_malformed", "a webhook URL is ASCII without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
    except ValueError:
        raise UnsafeUrl("url_malformed", "the webhook URL cannot be parsed") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("url_scheme", "a webhook URL is http:// or https://")
    if not parts.hostname:
        raise UnsafeUrl("url_malformed", "the webhook URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("url_credentials", "a webhook URL carries no user name or password")
    if parts.fragment:
        raise UnsafeUrl("url_malformed", "a webhook URL has no #fragment")
    return parts


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(url: str, *, allow_private: bool) -> Target:
    """The URL checked and its host resolved to an address a webhook may reach."""
    parts = parse(url)
    host = parts.hostname
    assert host is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeUrl("url_unresolvable", f"the host {host} cannot be resolved") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]
    if not addresses:
        raise UnsafeUrl("url_unresolvable", f"the host {host} cannot be resolved")
    if not allow_private:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise UnsafeUrl(
                "url_private",
                f"the host {host} resolves to {refused[0]}, a loopback, private, link-local "
                "or reserved address",
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url, parts.scheme, host, port, str(addresses[0]), path)
