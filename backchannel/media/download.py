"""Downloading one media file into the content-addressed store, politely and safely.

:meth:`Downloader.fetch` streams a URL with httpx into a temp file, hashing as it
goes, and refuses what the archive must not keep:

* a content type outside the allow list (images; video only when asked), or bytes
  that do not look like the declared type: :class:`Refused`;
* more bytes than the cap (checked on ``Content-Length`` and again while reading, so
  a lying server costs at most the cap): :class:`Refused`;
* a URL too long (over :data:`MAX_URL`), malformed or of another scheme: :class:`Refused`;
* 404 or 410: :class:`Gone` (the caller decides when that is final);
* timeouts, dropped connections, 408, 429 and 5xx: retried in the same call with
  capped, jittered backoff (:class:`~backchannel.collectors.retry.Pacer`), then
  :class:`Unavailable`. Other HTTP errors are :class:`Unavailable` at once.

No database here: :mod:`backchannel.media.fetch` decides what to fetch and records results.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backchannel.collectors import Pacer, RetryPolicy
from backchannel.media.files import IMAGE_TYPES, VIDEO_TYPES, MediaStore, sniff

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}
_UNTYPED = {"", "application/octet-stream", "binary/octet-stream"}
MAX_URL = 8_000  # characters: longer is no file's address (servers refuse past ~8 KB)


class DownloadError(Exception):
    """A download that did not give a file."""


class Gone(DownloadError):
    """404 or 410: the file is not there."""


class Refused(DownloadError):
    """The file is not one the archive keeps (type, size); trying again will not help."""


class Unavailable(DownloadError):
    """Network trouble or a server error that outlasted the retries."""


class _Retry(Exception):
    pass


@dataclass(frozen=True)
class Downloaded:
    sha256: str
    size: int
    content_type: str
    local_path: str  # relative to the media folder


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10_000_000
    max_video_bytes: int = 50_000_000
    timeout: float = 30.0
    retries: int = 3
    deadline: float = 600.0  # seconds one download may take in all


class Downloader:
    """Fetches files into a :class:`MediaStore`. Safe to share between threads."""

    def __init__(
        self,
        store: MediaStore,
        limits: Limits,
        user_agent: str,
        policy: RetryPolicy | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.limits = limits
        self.policy = policy or RetryPolicy(attempts=limits.retries)
        self.stop = stop or threading.Event()
        self._lock = threading.Lock()
        self.requests = 0
        # httpx loads here, not with the module: `status` reads the media backlog from
        # this package and must stay quick.
        import httpx

        from backchannel.collectors import hold_deadlines

        transport = httpx.HTTPTransport()
        hold_deadlines(transport._pool)  # media.deadline holds for the headers too
        self.client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(limits.timeout),
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": user_agent, "Accept": "image/*, video/*;q=0.8"},
            event_hooks={"request": [self._count]},
        )

    def _count(self, _request: httpx.Request) -> None:
        with self._lock:
            self.requests += 1

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, allow_video: bool = False) -> Downloaded:
        """Download ``url`` into the store (see the module docstring for errors)."""
        if len(url) > MAX_URL:
            raise Refused(f"the URL is {len(url):,} characters long (at most {MAX_URL:,})")
        pacer = Pacer(self.policy, self.stop)
        attempt = 0
        while True:
            pacer.check()
            try:
                return self._once(url, allow_video)
            except _Retry as exc:
                attempt += 1
                if attempt >= self.policy.attempts:
                    raise Unavailable(f"{exc} ({attempt} tries)") from None
                pacer.backoff(attempt, f"{url}: {exc}")

    def _once(self, url: str, allow_video: bool) -> Downloaded:
        import httpx

        from backchannel.collectors import deadline_of, past_deadline

        started = time.monotonic()
        try:
            with (
                deadline_of(started, self.limits.deadline),
                self.client.stream("GET", url) as response,
            ):
                return self._read(url, response, allow_video, started)
        except httpx.TimeoutException as exc:
            if past_deadline(exc):
                raise Unavailable(
                    f"no complete file within {self.limits.deadline:g} s (too slow)"
                ) from exc
            raise _Retry(f"timed out ({type(exc).__name__})") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:  # before TransportError
            raise Refused(f"not a URL that can be fetched ({exc})") from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _Retry(f"network error ({type(exc).__name__}: {exc})") from exc
        except httpx.TooManyRedirects as exc:
            raise Unavailable("too many redirects") from exc

    def _read(
        self, url: str, response: httpx.Response, allow_video: bool, started: float
    ) -> Downloaded:
        status = response.status_code
        if status in (404, 410):
            raise Gone(f"HTTP {status}")
        if status in _RETRY_STATUSES:
            raise _Retry(f"HTTP {status}")
        if not 200 <= status < 300:
            raise Unavailable(f"HTTP {status}")
        declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
        allowed = set(IMAGE_TYPES) | (set(VIDEO_TYPES) if allow_video else set())
        if declared not in allowed and declared not in _UNTYPED:
            raise Refused(f"content type {declared!r} is not kept")
        cap = self.limits.max_video_bytes if declared in VIDEO_TYPES else self.limits.max_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            raise Refused(f"{int(length)} bytes is over the limit of {cap}")
        handle, temp = self.store.open_temp()
        try:
            digest, size, head = hashlib.sha256(), 0, b""
            with handle:
                for chunk in response.iter_bytes(_CHUNK):
                    if time.monotonic() - started > self.limits.deadline:
                        raise Unavailable(
                            f"no complete file within {self.limits.deadline:g} s (too slow)"
                        )
                    if len(head) < 16:
                        head += chunk[: 16 - len(head)]
                    size += len(chunk)
                    if size > cap:
                        raise Refused(f"more than {cap} bytes: over the limit")
                    digest.update(chunk)
                    handle.write(chunk)
            actual = sniff(head)
            if actual is None or actual not in allowed:
                raise Refused(f"the bytes are not an allowed media type (declared {declared!r})")
            if declared not in _UNTYPED and actual != declared:
                raise Refused(f"declared {declared!r} but the bytes are {actual!r}")
            limit = self.limits.max_video_bytes if actual in VIDEO_TYPES else self.limits.max_bytes
            if size > limit:
                raise Refused(f"{size} bytes is over the limit of {limit}")
            sha = digest.hexdigest()
            relative = self.store.commit(temp, sha, actual)
        except BaseException:
            self.store.discard(temp)
            raise
        log.debug("stored %s as %s (%d bytes)", url, relative, size)
        return Downloaded(sha, size, actual, relative)
