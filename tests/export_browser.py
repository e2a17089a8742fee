"""Serving an exported site on 127.0.0.1 and opening it in Debian's Chromium."""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():  # a failure under CI=true (tests.ci_rule)
        pytest.skip(f"{CHROMIUM} is not installed: browser tests cannot run")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that leaves a page mid-answer is no error of the archive's."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """The folder over HTTP at http://127.0.0.1:<port>/ while the block runs."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# Set before any page script runs: calls a payload could make without a dialog, and
# what the Content-Security-Policy had to block (a payload that got that far). Each is
# reported to the test at once (__backchannelTrap, exposed by Watch.attach), so nothing
# is lost when the page navigates away and no test can forget to collect it.
_TRAPS = """
window.__traps = [];
const report = (text) => {
  window.__traps.push(text);
  if (window.__backchannelTrap) window.__backchannelTrap(text);
};
// eval, new Function and string timers need 'unsafe-eval', which the CSP withholds:
// an attempt shows up as a violation below.
for (const name of ["print", "open"]) {
  const original = window[name];
  window[name] = function (...args) {
    report(name + "(" + String(args[0]).slice(0, 80) + ")");
    return original.apply(this, args);
  };
}
document.addEventListener("securitypolicyviolation", (e) => {
  report("CSP " + e.violatedDirective + " " + e.blockedURI);
});
"""


@dataclass
class Watch:
    """Everything a page did that a hostile archive must not make it do."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    script_calls: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)
    pages: list[Any] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        self.pages.append(page)
        page.expose_function("__backchannelTrap", lambda text: self.script_calls.append(text))
        page.add_init_script(_TRAPS)
        page.on("popup", lambda popup: self.popups.append(popup.url))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

        def route(route: Any) -> None:
            url = route.request.url
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}/" != self.origin:
                self.foreign_requests.append(url)
                route.abort()
            else:
                route.continue_()

        page.context.route("**/*", route)

    def collect(self, page: Any, expected_path: str | None = None) -> None:
        """Check that the page is still at ``expected_path`` (a payload that navigated
        away is a script call too). What the traps caught is reported as it happens."""
        self._flush(page)
        if expected_path is not None and urlsplit(page.url).path != expected_path:
            self.script_calls.append(f"navigated to {page.url} from {expected_path}")

    @staticmethod
    def _flush(page: Any) -> None:
        """A round trip to the page, so that its reports sent before are handled."""
        if not page.is_closed():
            page.evaluate("0")

    def assert_clean(self) -> None:
        for page in self.pages:
            self._flush(page)
        assert self.dialogs == []
        assert self.script_calls == []
        assert self.popups == []
        assert self.page_errors == []
        assert self.console_errors == []
        assert self.foreign_requests == []


@contextmanager
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
