"""Sanitize: remote HTML made safe to publish, and the text and URLs a reader sees.

The public functions are listed here (see :mod:`.clean` for what each does); the fast
path, the linear-time parser feed, the taming pre-pass, text extraction and URL checks
are its private modules. May import nothing else of backchannel.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "clean": [
            "LINK_REL",
            "clean_post",
            "clean_post_html",
            "emoji_img",
            "escape",
            "html_to_text",
            "text_and_links",
        ],
        "fast": ["CleanPost"],
        "urls": ["safe_url"],
        "valid": ["make_valid", "parse_json", "repair_json", "valid_json", "valid_text"],
    },
    namespaces=["limits"],
)
