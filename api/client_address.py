"""The client's address for sign-in throttling, seen through trusted reverse proxies.

Behind a proxy every request arrives from the proxy's address; its X-Forwarded-For
names the client. The header is believed only from peers in FSD_TRUSTED_PROXIES:
from anyone else it is a value the client chose.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, cidrs: tuple[str, ...]) -> TrustedProxies:
        return cls(tuple(ipaddress.ip_network(c, strict=False) for c in cidrs))

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client(self, scope: Any) -> str:
        peer = scope.get("client")
        address = str(peer[0]) if peer else "unknown"
        if not self.trusts(address):
            return address
        hops: list[str] = []
        for key, value in scope.get("headers", []):
            if bytes(key).lower() == b"x-forwarded-for":
                hops += [h.strip() for h in bytes(value).decode("latin-1").split(",") if h.strip()]
        # Right to left: each trusted proxy vouches for the hop before it; the first
        # address no trusted proxy added itself is the client.
        for hop in reversed(hops):
            if not self.trusts(hop):
                return _normalised(hop)
            address = hop
        return address


def _normalised(hop: str) -> str:
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return hop[:64]  # a malformed hop still keys one counter, not a free one per spelling
