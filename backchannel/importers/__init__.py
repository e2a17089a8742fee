"""Importers: files of old backchannels -> ``NormalizedPost`` (Storify, twarc,
TAGS, Twitter and Mastodon archives, Bluesky repositories).

Each format has a reader module that turns a file into :class:`~.base.Batch` es of
normalised posts, with every item it could not use named by its line and reason. The
import service (:mod:`backchannel.collect.importing`) stores them through the same
consent rule and store as collected posts. No database here. May import: collectors
(the post shapes), sanitize, errors.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "base": ["Batch", "CURATED", "FORMATS", "read_file_lines"],
        "storify": ["StoryDraft", "read_storify"],
        "storify_html": ["read_storify_html"],
        "storify_pages": ["join_story_pages"],
        "detect": ["detect_format"],
        "tweets": ["TWITTER", "tweet_uri"],
        "twarc": ["read_twarc"],
        "tags": ["read_tags"],
        "twitter_archive": ["read_twitter_archive"],
        "mastodon_outbox": ["read_outbox"],
        "bluesky_car": ["read_car"],
    },
)
