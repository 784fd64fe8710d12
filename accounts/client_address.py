"""The address a request came from, as far as the configured proxies vouch for it.

`REMOTE_ADDR` is the peer that connected. Behind nginx that is the proxy, shared by every client,
so the client's own address is read from `X-Forwarded-For` — but only the part of it that a
trusted proxy wrote. The chain (`X-Forwarded-For` entries, then `REMOTE_ADDR`) is read from the
right; trusted proxies (TRUSTED_PROXIES: addresses or networks) are skipped, and the first address
that is not one of them is the client. A client that connects directly, or writes its own
`X-Forwarded-For` in front of the proxy's, cannot choose the address it is counted under.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_address(request: HttpRequest) -> str:
    """The client's address (AXES_CLIENT_IP_CALLABLE, and every per-address limit)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    peer = _parse(remote)
    if peer is None:
        return remote
    if not trusted:
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    current = peer
    for hop in reversed(hops):
        if not any(current in network for network in trusted):
            break
        parsed = _parse(hop)
        if parsed is None:  # garbage written by the client: the last proxy's peer is what we know
            break
        current = parsed
    return str(current)
