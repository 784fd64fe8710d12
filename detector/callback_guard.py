"""Where result callbacks may go: public internet addresses only, checked twice.

A callback URL is user input that the worker later POSTs to. Unchecked, it lets a user make
the server send requests into its own network (SSRF): the queue's Redis on 127.0.0.1:6379,
cloud metadata at 169.254.169.254, any host on the private network. So:

- when the URL is given, every address its host resolves to must be public;
- when the worker connects, the address the socket actually reached must be public, checked
  before a single byte of the request is sent. A name that resolves to a public address at
  validation and to an internal one later (DNS rebinding) is refused there.

Hosts listed in `settings.WEBHOOK_ALLOWED_HOSTS` skip both checks: internal receivers that an
administrator allows on purpose.

The lookup at input is `settings.CALLBACK_RESOLVER` (a dotted path to a function host, port ->
addresses; the system's resolver by default), or a resolver passed to `callback_host_check`:
tests answer from a table of their own and never ask, or depend on, an outside DNS server.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# Checked in this order, so 0.0.0.0 reads "unspecified" rather than "private".
FORBIDDEN_KINDS = (
    ("is_unspecified", "an unspecified"),
    ("is_loopback", "a loopback"),
    ("is_link_local", "a link-local"),
    ("is_multicast", "a multicast"),
    ("is_reserved", "a reserved"),
    ("is_private", "a private-network"),
)


class CallbackRefused(Exception):
    """The callback's connection reached an address that may not receive callbacks."""


def address_problem(address: str) -> str | None:
    """Why this IP address may not receive callbacks ("a loopback address (…)"), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # "%eth0": an IPv6 zone id
    if ip.version == 6 and (ip.ipv4_mapped or ip.sixtofour):
        # ::ffff:127.0.0.1 and 2002:7f00:1:: reach the IPv4 address inside them.
        ip = ip.ipv4_mapped or ip.sixtofour
    for attribute, kind in FORBIDDEN_KINDS:
        if getattr(ip, attribute):
            return f"{kind} address ({address})"
    if not ip.is_global:
        return f"a non-public address ({address})"
    return None


def host_is_allowed(host: str) -> bool:
    """True for hosts an administrator allowed on purpose (WEBHOOK_ALLOWED_HOSTS)."""
    allowed = getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])
    return _normal_host(host) in {_normal_host(name) for name in allowed}


Resolver = Callable[[str, int], list[str]]
DEFAULT_RESOLVER = "detector.callback_guard.system_resolve"


def system_resolve(host: str, port: int) -> list[str]:
    """Every address (A and AAAA) the host resolves to, from the system's resolver."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def configured_resolver() -> Resolver:
    return import_string(getattr(settings, "CALLBACK_RESOLVER", DEFAULT_RESOLVER))


def callback_host_check(host: str, port: int, *, resolve: Resolver | None = None) -> None:
    """Raise ValidationError unless every address of the host may receive callbacks.

    `resolve` (host, port -> addresses; OSError when the name is unknown) defaults to
    CALLBACK_RESOLVER."""
    if host_is_allowed(host):
        return
    resolve = resolve or configured_resolver()
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise ValidationError(f"The callback host “{host}” could not be found.") from None
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise ValidationError(
                f"The callback URL points to {problem}. Callbacks go only to public "
                "internet addresses."
            )


def guarded_session() -> requests.Session:
    """A requests session whose connections refuse non-public peers (see module doc)."""
    session = requests.Session()
    # No proxy or .netrc from the environment: the peer checked must be the receiver itself.
    session.trust_env = False
    adapter = _PublicPeerAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


class _PublicPeerMixin:
    """Checks the address the new socket is connected to, before TLS or the request."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if host_is_allowed(self.host):
            return sock
        problem = address_problem(sock.getpeername()[0])
        if problem:
            sock.close()
            raise CallbackRefused(f"Callback to {self.host} refused: it connected to {problem}.")
        return sock


class _PublicPeerHTTPConnection(_PublicPeerMixin, HTTPConnection):
    pass


class _PublicPeerHTTPSConnection(_PublicPeerMixin, HTTPSConnection):
    pass


class _PublicPeerHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicPeerHTTPConnection


class _PublicPeerHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicPeerHTTPSConnection


class _PublicPeerAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicPeerHTTPPool,
            "https": _PublicPeerHTTPSPool,
        }
