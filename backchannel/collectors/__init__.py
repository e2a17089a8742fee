"""Collectors: HTTP -> ``NormalizedPost``, for Mastodon (Mastodon.py), Bluesky (atproto)
and the Misskey family (its own API over httpx).

One package per API family (``mastodon/``, ``bluesky/``, ``misskey/``), each with its
client, normaliser and recheck; shared here: the page and post shapes (``base``),
waiting (``retry``), bounded reads (``bounded``, ``deadline``), budgets, NodeInfo and
the id schemes whose ids carry a post's time (``id_schemes``).

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
        "mastodon.collector": ["MastodonCollector"],
        "mastodon.lookup": ["HomeProfile", "HomeServerLookup"],
        "mastodon.normalize": ["normalize_status"],
        "mastodon.recheck": ["StatusChecker"],
        "misskey.collector": ["MisskeyCollector"],
        "misskey.recheck": ["MisskeyChecker"],
        "misskey.normalize": ["normalize_note"],
        "bluesky.collector": ["BlueskyCollector"],
        "bluesky.session": ["BlueskySession"],
        "bluesky.normalize": ["normalize_post_view"],
        "bluesky.facets": ["hashtag", "render_facets", "text_hashtags"],
        "bluesky.recheck": ["PostChecker"],
    },
)
