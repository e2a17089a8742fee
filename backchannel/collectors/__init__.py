"""Collectors: HTTP -> ``NormalizedPost``, for Mastodon (Mastodon.py), Bluesky (atproto)
and the Misskey family (its own API over httpx).

No database: a collector never imports the store, consent or models. The client
libraries load only with the collector that needs them. May import: sanitize, errors.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "base": [
            "Collector",
            "NormalizedAuthor",
            "NormalizedMedia",
            "NormalizedPost",
            "Page",
            "Window",
            "normalize_hashtag",
        ],
        "retry": ["Bounds", "Pacer", "RetryPolicy"],
        "failures": ["host_of", "network_problem"],
        "deadline": ["deadline_of", "hold_deadlines", "past_deadline"],
        "budget": ["budget_left", "budget_until"],
        "nodeinfo": [
            "MISSKEY_FAMILY",
            "TOKEN_SOFTWARE",
            "Software",
            "read_nodeinfo",
            "token_table",
        ],
        "id_schemes": ["FLOORS", "floor_for"],
        "mastodon": ["MastodonCollector"],
        "mastodon_lookup": ["HomeProfile", "HomeServerLookup"],
        "mastodon_normalize": ["normalize_status"],
        "mastodon_recheck": ["StatusChecker"],
        "misskey": ["MisskeyChecker", "MisskeyCollector"],
        "misskey_normalize": ["normalize_note"],
        "bluesky": ["BlueskyCollector"],
        "bluesky_session": ["BlueskySession"],
        "bluesky_normalize": ["normalize_post_view"],
        "bluesky_recheck": ["PostChecker"],
    },
)
