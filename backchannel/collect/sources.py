"""Build the collector for an event source from the config (secrets resolved here).

Client libraries are imported only when a collector is built: atproto alone takes
about a second to import, and ``backchannel --help`` must stay fast.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from backchannel.collectors import Bounds, Collector, RetryPolicy
from backchannel.config import Config
from backchannel.errors import ConfigError
from backchannel.store import EventSource


def bounds(config: Config) -> Bounds:
    """How long one request may take in all, and how large an answer may be."""
    return Bounds(config.collect.request_deadline, config.collect.max_response_bytes)


def retry_policy(config: Config) -> RetryPolicy:
    return RetryPolicy(
        attempts=config.collect.retries,
        backoff_cap=config.collect.backoff_cap,
        max_rate_limit_sleep=config.collect.max_rate_limit_sleep,
    )


Clock = Callable[[], datetime]


def make_collector(
    config: Config, source: EventSource, stop: threading.Event, clock: Clock | None = None
) -> Collector:
    """``clock`` stands in for "now" where a collector needs it (the sandbox's own time)."""
    if source.platform == "mastodon":
        from backchannel.collectors import MISSKEY_FAMILY

        if source.software in MISSKEY_FAMILY:  # no Mastodon API: its own notes/search-by-tag
            return misskey_collector(config, source.base_url, stop)
        return _mastodon(config, source.base_url, stop, source.software)
    if source.platform == "bluesky":
        return _bluesky(config, source.base_url, stop, clock)
    raise ConfigError(config.path, "", f"unknown platform {source.platform!r}")


def _token(config: Config, base_url: str) -> tuple[str | None, str]:
    """The access token configured for the server at ``base_url`` (or None), and the
    config key that names it."""
    token = None
    key = "mastodon.<name>.access_token_env"
    match = config.mastodon_server(base_url)
    if match is not None:
        name, server = match
        key = f"mastodon.{name}.access_token_env"
        if server.access_token_env:
            token = config.secret(key, server.access_token_env)
    return token, key


def misskey_collector(config: Config, base_url: str, stop: threading.Event) -> Collector:
    """A Misskey-family source (NodeInfo says misskey, sharkey, iceshrimp ...)."""
    from backchannel.collectors import MisskeyCollector

    return MisskeyCollector(
        base_url,
        access_token=_token(config, base_url)[0],
        user_agent=config.user_agent_for(base_url),
        timeout=config.collect.timeout,
        rescan=timedelta(hours=config.collect.rescan_hours),
        rescan_every=timedelta(minutes=config.collect.rescan_every_minutes),
        policy=retry_policy(config),
        stop=stop,
        bounds=bounds(config),
    )


def _mastodon(
    config: Config, base_url: str, stop: threading.Event, software: str | None = None
) -> Collector:
    from backchannel.collectors import MastodonCollector

    token, key = _token(config, base_url)
    return MastodonCollector(
        base_url,
        access_token=token,
        user_agent=config.user_agent_for(base_url),
        timeout=config.collect.timeout,
        rescan=timedelta(hours=config.collect.rescan_hours),
        rescan_every=timedelta(minutes=config.collect.rescan_every_minutes),
        policy=retry_policy(config),
        stop=stop,
        config_key=key,
        bounds=bounds(config),
        software=software,
    )


def _bluesky(config: Config, service: str, stop: threading.Event, clock: Clock | None) -> Collector:
    from backchannel.collectors import BlueskyCollector

    handle = config.bluesky.handle
    if not handle:
        raise ConfigError(
            config.path, "bluesky.handle", "expected the Bluesky handle to log in with"
        )
    password = config.secret("bluesky.app_password_env", config.bluesky.app_password_env)
    safe_handle = re.sub(r"[^A-Za-z0-9._-]", "_", handle)
    return BlueskyCollector(
        service,
        handle,
        password,
        session_path=config.resolve(f".backchannel-bluesky-{safe_handle}.session"),
        config_key="bluesky.app_password_env",
        password_env=config.bluesky.app_password_env,
        user_agent=config.user_agent_for(service),
        timeout=config.collect.timeout,
        policy=retry_policy(config),
        stop=stop,
        overlap=timedelta(minutes=config.collect.bluesky_overlap_minutes),
        clock=clock,
        bounds=bounds(config),
    )
