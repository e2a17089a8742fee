"""Names in the archive's locale (``[export] locale``), from the Unicode CLDR through
Babel rather than a table of our own: the languages posts were written in."""

from __future__ import annotations

from functools import lru_cache

DEFAULT_LOCALE = "en_GB"


def valid_locale(value: str) -> bool:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return True


@lru_cache(maxsize=1024)
def language_name(code: str, locale: str) -> str:
    """``mi`` -> "Māori" (in ``locale``); a code CLDR does not know stays as it is."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code.replace("_", "-"), sep="-").get_display_name(locale)
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name or code
