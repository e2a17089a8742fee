"""What an export is asked for (:class:`ExportOptions`, from ``[export]`` and
``[archive]``), and the site and event summaries every page of it receives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchannel.errors import ConfigError
from backchannel.export.branding import (
    DARK_BACKGROUND,
    LIGHT_BACKGROUND,
    Branding,
    LogoView,
    check_accent,
    load_logo,
)
from backchannel.export.locale_names import DEFAULT_LOCALE, valid_locale


@dataclass(frozen=True)
class ExportOptions:
    """How to export. :meth:`from_config` fills it from ``[export]`` and ``[archive]``."""

    out: Path
    title: str = "Conference backchannels"
    base_url: str = ""
    templates_dir: Path | None = None
    allow_indexing: bool = False
    posts_per_page: int = 100
    contact: str = ""
    media_dir: Path | None = None
    allow_bots: bool = False
    default_opt_in: bool = False  # [consent] default_policy = "opt-in"
    search: bool = True
    wall: bool = False  # the live wall page, <event>/wall.html ([export] live)
    locale: str = DEFAULT_LOCALE  # dates, times and language names (CLDR, through Babel)
    branding: Branding = Branding()  # [export] accent, accent_dark, logo (checked)

    def missing(self) -> list[str]:
        """What the archive will lack for want of a setting: said once per export."""
        lines = []
        if not self.contact.strip():
            lines.append("[export] contact is not set: the archive will not say whom to ask "
                         "to have a post removed (set an email address or a web page)")  # fmt: skip
        if not self.base_url.strip():
            lines.append("[export] base_url is not set: the feed and the citations of stories "
                         "will hold relative links, which break once copied elsewhere, and "
                         "shared links get no preview card nor embed code (set the address "
                         "the site will be published at, or pass --base-url)")  # fmt: skip
        return lines

    @classmethod
    def from_config(
        cls,
        config: Any,
        out: Path | None = None,
        templates_dir: Path | None = None,
        base_url: str | None = None,
    ) -> ExportOptions:
        export = config.export
        if not valid_locale(export.locale):
            raise ConfigError(config.path, "export.locale", "expected a locale such as en_GB, "
                              f"en_NZ, mi_NZ or de, got {export.locale!r}")  # fmt: skip
        branding = Branding(
            check_accent(config.path, "export.accent", export.accent, LIGHT_BACKGROUND,
                         "the light background"),
            check_accent(config.path, "export.accent_dark", export.accent_dark,
                         DARK_BACKGROUND, "the dark background"),
            load_logo(config.path, "export.logo", config.resolve(export.logo))
            if export.logo.strip()
            else None,
        )  # fmt: skip
        theme = templates_dir or (
            config.resolve(export.templates_dir) if export.templates_dir else None
        )
        return cls(
            out=out or config.site_dir,
            title=export.title,
            base_url=export.base_url if base_url is None else base_url,
            templates_dir=theme,
            allow_indexing=export.allow_indexing,
            posts_per_page=export.posts_per_page,
            contact=export.contact,
            media_dir=config.media_dir,
            allow_bots=config.consent.allow_bots,
            default_opt_in=config.consent.default_policy == "opt-in",
            wall=export.live,
            locale=export.locale,
            branding=branding,
        )


@dataclass(frozen=True, slots=True)
class SiteView:
    title: str
    base_url: str
    contact: str
    robots: str  # the robots meta content
    csp: str
    allow_indexing: bool
    locale: str = DEFAULT_LOCALE
    brand_css: bool = False  # assets/brand.css holds [export] accent colours
    logo: LogoView | None = None
    accent: str = ""  # [export] accent (a drawn story card's colour)


@dataclass(frozen=True, slots=True)
class EventView:
    slug: str
    title: str
    description: str
    hashtags: tuple[str, ...]
    timezone: str
    starts: str  # "Thursday 14 November 2013"
    ends: str  # the last day, same form
    starts_utc: str
    ends_utc: str
    posts: int
    href: str  # relative to the site root: "swrb13/index.html"
    stories: tuple[tuple[str, str], ...] = ()  # (title, href from the site root)
