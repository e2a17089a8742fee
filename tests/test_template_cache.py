"""Compiled templates are kept between exports (issue 37): a second export parses no
template, a changed template is never served stale, and a cache that cannot be
written only costs time."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment

from backchannel.export.environment import load_theme


def _render(theme_dir: Path) -> str:
    return load_theme(theme_dir).get("robots_probe.html").render()


def test_a_second_theme_loads_compiled_templates_without_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("BACKCHANNEL_TEMPLATE_CACHE", raising=False)
    first = load_theme()
    for name in ("base.html", "day.html", "_post.html"):
        first.get(name)
    cached = list((tmp_path / "cache" / "backchannel").rglob("*.cache"))
    assert len(cached) >= 3

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template was parsed again")

    monkeypatch.setattr(Environment, "_parse", no_parsing)
    second = load_theme()
    assert second.get("day.html").name == "day.html"


def test_a_changed_template_is_compiled_again_never_served_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "robots_probe.html").write_text("first version", encoding="utf-8")
    assert _render(theme) == "first version"
    (theme / "robots_probe.html").write_text("second version", encoding="utf-8")
    assert _render(theme) == "second version"


def test_a_cache_that_cannot_be_written_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert load_theme().get("base.html").name == "base.html"
    monkeypatch.setenv("BACKCHANNEL_TEMPLATE_CACHE", "off")
    assert load_theme().env.bytecode_cache is None
