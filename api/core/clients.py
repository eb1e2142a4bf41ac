"""Who is calling: the client's IP address (behind ``NUM_PROXIES`` trusted proxies) and agent.

Services take a ``ClientInfo``, never an ``HttpRequest``, so a consumer, a task or an admin
action can call them too; only the view knows where the values came from.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: ``REMOTE_ADDR``, or with ``NUM_PROXIES`` set, the address that many
    hops back in ``X-Forwarded-For`` (the same rule DRF's throttles use)."""
    remote_addr = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    if num_proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(num_proxies, len(addresses))]
    return remote_addr or None


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:255]


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> "ClientInfo":
        return cls(ip=client_ip(request), user_agent=user_agent(request))


NO_CLIENT = ClientInfo()  # work that no client asked for: a task, a command
