"""Where the fetcher's connections go: only to addresses the SSRF guard approved (looked up once, so DNS rebinding
cannot swap them), a bounded number at a time per host, with waiting for a host's turn kept off the deadline."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot.feeds.urlsafety import Resolver, public_addresses


class HostSlots:
    """At most `limit` requests in flight per host; a host's semaphore is dropped when nobody uses it."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}

    async def acquire(self, host: str) -> None:
        semaphore = self._semaphores.setdefault(host, asyncio.Semaphore(self._limit))
        self._users[host] = self._users.get(host, 0) + 1
        try:
            await semaphore.acquire()
        except BaseException:
            self._forget(host)
            raise

    def release(self, host: str) -> None:
        self._semaphores[host].release()
        self._forget(host)

    def _forget(self, host: str) -> None:
        self._users[host] -= 1
        if not self._users[host]:
            del self._users[host], self._semaphores[host]


def host_of(url: str) -> str | None:
    """The host aiohttp will connect to (IDNA-encoded), or None when there is none to read (check_url says why)."""
    try:
        return URL(url).raw_host
    except (ValueError, TypeError):
        return None


def same_host(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


class GuardedResolver(AbstractResolver):
    """Resolves for the guarded connector: a host's addresses are looked up once, checked, and only those dialled.

    check_url() already refused the URL before any request; this closes DNS rebinding (a second lookup at connect
    time answering 127.0.0.1). TLS still verifies and sends SNI for the host name: aiohttp passes it separately.
    aiohttp never asks a resolver about IP literals; check_url() judged those, and they cannot change.
    """

    def __init__(
        self,
        resolver: Resolver | None,
        connect_to: Mapping[tuple[str, int], tuple[str, int]],
        *,
        allow_private: bool = False,
    ) -> None:
        self._resolver = resolver
        self._connect_to = connect_to
        self._allow_private = allow_private  # then only metadata endpoints are refused

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = []
        for ip in await public_addresses(f"{host}:{port}", host, self._resolver, allow_private=self._allow_private):
            address, dial_port = self._connect_to.get((str(ip), port), (str(ip), port))
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=dial_port,
                    family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        return results

    async def close(self) -> None:
        pass


class paused:
    """Stop an asyncio.timeout's clock for the duration of the block, then give back the time that was left."""

    def __init__(self, deadline: asyncio.Timeout) -> None:
        self._deadline = deadline
        self._left: float | None = None

    def __enter__(self) -> None:
        when = self._deadline.when()
        if when is not None:
            self._left = when - asyncio.get_running_loop().time()
            self._deadline.reschedule(None)

    def __exit__(self, *exc: object) -> None:
        if self._left is not None:
            self._deadline.reschedule(asyncio.get_running_loop().time() + self._left)
