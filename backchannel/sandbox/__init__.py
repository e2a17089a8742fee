"""Sandbox: loopback servers that speak the Mastodon and Bluesky APIs, and the demo.

Used by ``backchannel demo`` and by the tests. May import every service package (the
demo drives the whole pipeline) but nothing imports it except the CLI and the tests.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {"demo": ["DemoResult", "run_demo"]})
