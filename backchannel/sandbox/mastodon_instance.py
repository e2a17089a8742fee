"""``/api/v2/instance`` and ``/api/v1/instance`` bodies, shaped like Mastodon 4.5's.

``configuration.timelines_access`` (v2 only, as in the recordings) says whether the
hashtag feeds are ``public`` or ``authenticated``; Mastodon.py reads it before its
first timeline call.
"""

from __future__ import annotations

from typing import Any

from backchannel.sandbox.mastodon_world import MastodonWorld

VERSION = "4.5.2"


def instance_v2(world: MastodonWorld, instance: str, feeds: str) -> dict[str, Any]:
    base, domain = world.base_url(instance), world.domain(instance)
    title = world.instances[instance].title
    return {
        "domain": domain, "title": title, "version": VERSION,
        "source_url": "https://github.com/mastodon/mastodon",
        "description": f"{title}: a sandbox Mastodon server for the backchannel demo.",
        "usage": {"users": {"active_month": sum(a.home == instance for a in world.accounts.values())}},
        "thumbnail": {"url": f"{base}/system/site_uploads/files/thumbnail.png", "description": ""},
        "icon": [], "languages": ["en", "mi"],
        "configuration": {
            "urls": {"streaming": base.replace("http", "ws", 1), "status": None,
                     "about": f"{base}/about", "privacy_policy": f"{base}/privacy-policy",
                     "terms_of_service": None},
            "vapid": {"public_key": ""},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5, "max_profile_fields": 4},
            "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
            "media_attachments": {"supported_mime_types": ["image/png", "image/jpeg"], "description_limit": 1500},
            "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746},
            "translation": {"enabled": False},
            "timelines_access": {
                "live_feeds": {"local": "public", "remote": "public"},
                "hashtag_feeds": {"local": feeds, "remote": feeds},
                "trending_link_feeds": {"local": "public", "remote": "public"},
            },
            "limited_federation": False,
        },
        "registrations": {"enabled": False, "approval_required": False, "reason_required": False,
                          "message": None, "min_age": None, "url": None},
        "api_versions": {"mastodon": 6},
        "wrapstodon": None,
        "contact": {"email": f"admin@{instance}", "account": None},
        "rules": [],
    }  # fmt: skip


def instance_v1(world: MastodonWorld, instance: str) -> dict[str, Any]:
    base, domain = world.base_url(instance), world.domain(instance)
    title = world.instances[instance].title
    local_posts = sum(world.accounts[p.author].home == instance for p in world.posts.values())
    return {
        "uri": domain, "title": title, "short_description": "", "description": "",
        "email": f"admin@{instance}", "version": VERSION,
        "urls": {"streaming_api": base.replace("http", "ws", 1)},
        "stats": {"user_count": sum(a.home == instance for a in world.accounts.values()),
                  "status_count": local_posts, "domain_count": len(world.instances) - 1},
        "thumbnail": f"{base}/system/site_uploads/files/thumbnail.png",
        "languages": ["en", "mi"], "registrations": False, "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": 10},
            "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
            "media_attachments": {"supported_mime_types": ["image/png", "image/jpeg"]},
            "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746},
        },
        "contact_account": None, "rules": [],
    }  # fmt: skip
