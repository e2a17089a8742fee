"""The Bluesky sandbox: a loopback XRPC server over a generated world.

Used by the tests (the real atproto ``Client`` over real HTTP) and by
``backchannel demo``. Typical use::

    from atproto import Client
    from backchannel.sandbox.bluesky import BlueskySandbox, build_demo_world

    world = build_demo_world()                  # deterministic from conference.SEED
    with BlueskySandbox(world) as sb:
        client = Client(base_url=sb.base_url)
        client.login(sb.handle, sb.app_password)
        page = client.app.bsky.feed.search_posts(params={"q": "#swrs26", "limit": 100})
        key = sb.answer_key()                   # what a correct collector ends up with

Focused worlds: ``World()`` plus ``world.add_account(...)`` (give one an
``app_password`` to log in with, and set ``world.login``), ``world.post(...)``, and
``world.add_bulk(tag, n, start, end)`` for tens of thousands of plain posts.

While it runs (all thread-safe): ``world.delete(uri)``, ``world.edit(uri, text)``
(new CID), ``world.advance()`` (late posts arrive and ``world.now()`` moves past them:
give a collector under test ``world.now`` as its clock, since the demo event lies in
the past and a collector on the real clock would take it as long finished), ``world.delete_after_served(uri)``,
``world.edit_after_served(uri, text)``; ``sb.server.faults`` (``Fault`` kinds status,
ratelimit, malformed, auth, drop; ``.latency``), ``sb.server.budget``,
``sb.server.search_cap`` (10,000), ``sb.server.access_lifetime`` (seconds),
``sb.server.expire_sessions()``, ``sb.request_log``, ``sb.requests_to(prefix)``.
"""

from __future__ import annotations

import logging

from backchannel.errors import SandboxError
from backchannel.sandbox.bluesky_demo import build_demo_world
from backchannel.sandbox.bluesky_model import AnswerKey
from backchannel.sandbox.bluesky_server import BlueskyServer
from backchannel.sandbox.bluesky_world import World
from backchannel.sandbox.httpbase import Fault

__all__ = ["AnswerKey", "BlueskySandbox", "BlueskyServer", "Fault", "World", "build_demo_world"]

log = logging.getLogger(__name__)


class BlueskySandbox:
    """A running Bluesky sandbox: ``with BlueskySandbox(world) as sb: ...``.

    Without a world it builds the demo world.
    """

    def __init__(self, world: World | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.world = world if world is not None else build_demo_world()
        self.server = BlueskyServer(self.world, host=host, port=port)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def handle(self) -> str:
        """The demo login's handle (``world.login``)."""
        if self.world.login is None:
            raise SandboxError("this Bluesky sandbox world has no login account")
        return self.world.login.handle

    @property
    def app_password(self) -> str:
        if self.world.login is None or self.world.login.app_password is None:
            raise SandboxError("this Bluesky sandbox world has no login account")
        return self.world.login.app_password

    @property
    def request_log(self) -> list[tuple[str, str]]:
        return self.server.request_log

    def requests_to(self, prefix: str) -> list[str]:
        return self.server.requests_to(prefix)

    def answer_key(self) -> AnswerKey:
        return self.world.answer_key()

    def start(self) -> BlueskySandbox:
        self.server.start()
        log.info("Bluesky sandbox at %s (%d posts)", self.base_url, len(self.world.posts))
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> BlueskySandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
