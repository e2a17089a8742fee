"""Sandbox worlds whose every post carries one XSS payload in every field (issue 20).

Post ``i`` of each world holds payload ``i`` of :mod:`tests.hostile_corpus` in each
field a stranger controls, and one of the hostile URLs wherever a URL goes. Fields the
sandbox's model has no place for (a status's URL, its tags, mentions and emoji, an
avatar address, an embed's image addresses) are filled in by the worlds' rewrite hooks,
as a hostile server would send them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from backchannel.sandbox.bluesky_world import World
from backchannel.sandbox.images import png
from backchannel.sandbox.mastodon_model import Card, Media, Poll
from backchannel.sandbox.mastodon_world import MastodonWorld
from backchannel.sandbox.misskey_world import File, MisskeyWorld, Note
from tests.hostile_corpus import hostile_url

TAG = "swrs26"
START = datetime(2026, 3, 12, 9, tzinfo=UTC)
HOME = "kea.example"
_TAG_LINK = f'<a href="https://kea.example/tags/{TAG}" class="mention hashtag" rel="tag">#<span>{TAG}</span></a>'


def _at(i: int) -> datetime:
    return START + timedelta(seconds=20 * i)


def mastodon_world(payloads: Sequence[str]) -> MastodonWorld:
    world = MastodonWorld()
    world.add_instance(HOME)
    index: dict[str, int] = {}
    for i, bad in enumerate(payloads):
        account = world.add_account(f"h{i}", HOME, display_name=bad)
        account.note = bad  # raw HTML, as a hostile server sends it
        account.fields = [(bad, bad)]
        at = _at(i)
        post = world.add_post(
            account, html=f"<p>{bad}</p><p>{_TAG_LINK}</p>", created_at=at,
            spoiler_text=bad if i % 2 else "", sensitive=bool(i % 2),
            language=bad if i % 5 == 0 else "en",
            media=[Media(f"m{i}", description=bad)],
            poll=Poll([(bad, 1), ("other", 2)], expires_at=at + timedelta(days=1))
            if i % 3 == 0 else None,
            card=Card(hostile_url(i), title=bad, description=bad, provider_name=bad,
                      author_name=bad),
        )  # fmt: skip
        index[post.key] = i
    payload_of = dict(zip(index, payloads, strict=True))

    def rewrite(post: Any, status: dict[str, Any]) -> dict[str, Any]:
        i = index.get(post.key)
        if i is None:
            return status
        bad = payload_of[post.key]
        status["url"] = hostile_url(i)
        account = status["account"]
        account["url"] = hostile_url(i + 1)
        for key in ("avatar", "avatar_static", "header", "header_static"):
            account[key] = hostile_url(i + 2)
        account["avatar_description"] = bad
        if i % 3 == 0:  # an author whose very name is the payload
            account["username"] = account["acct"] = bad
        for media in status["media_attachments"]:
            media["remote_url"] = media["preview_remote_url"] = hostile_url(i + 3)
        status["tags"].append({"name": bad, "url": hostile_url(i + 4)})
        status["mentions"].append(
            {"id": "999999", "username": bad, "url": hostile_url(i + 5), "acct": bad}
        )
        status["emojis"].append(
            {"shortcode": bad, "url": hostile_url(i + 6), "static_url": hostile_url(i + 6),
             "visible_in_picker": True}
        )  # fmt: skip
        status["application"] = {"name": bad, "website": hostile_url(i + 7)}
        return status

    world.rewrite_status = rewrite
    return world


def bluesky_world(payloads: Sequence[str]) -> World:
    world = World(hashtags=[TAG], window=(START - timedelta(days=1), START + timedelta(days=2)))
    world.login = world.add_account(
        "archivist.bsky.example", "Archivist", app_password="app-pass", avatar=False
    )
    blob = world.add_blob(png("hostile", 32, 32), "image/png")
    index: dict[str, int] = {}
    for i, bad in enumerate(payloads):
        author = world.add_account(f"h{i}.bsky.example", bad, description=bad, avatar=False)
        text = f"{bad} #{TAG}"
        size = len(text.encode())
        tag_start = size - len(TAG) - 1
        facets: list[dict[str, Any]] = [
            _facet(tag_start, size, {"$type": "app.bsky.richtext.facet#tag", "tag": TAG}),
            _facet(0, max(tag_start - 1, 1), {"$type": "app.bsky.richtext.facet#link",
                                              "uri": hostile_url(i)}),
            _facet(0, 1, {"$type": "app.bsky.richtext.facet#mention", "did": bad}),
            _facet(0, 2, {"$type": "app.bsky.richtext.facet#tag", "tag": bad}),
        ]  # fmt: skip
        if i % 2:  # offsets past the end of the text, and backwards
            facets.append(
                _facet(size + 5, size + 50, {"$type": "app.bsky.richtext.facet#link",
                                             "uri": hostile_url(i + 1)})
            )  # fmt: skip
            facets.append(_facet(size, 3, {"$type": "app.bsky.richtext.facet#tag", "tag": bad}))
        if i % 2 == 0:
            embed: dict[str, Any] = {
                "$type": "app.bsky.embed.images",
                "images": [{"image": blob, "alt": bad}],
            }
        else:
            embed = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": hostile_url(i + 2), "title": bad, "description": bad},
            }
        post = world.post(
            author, text, created_at=_at(i), facets=facets, embed=embed,
            langs=[bad] if i % 5 == 0 else ["en"],
            self_labels=[bad] if i % 4 == 0 else (),
            record_tags=[bad] if i % 6 == 0 else (),
        )  # fmt: skip
        index[post.uri] = i

    def rewrite(post: Any, view: dict[str, Any]) -> dict[str, Any]:
        i = index.get(post.uri)
        if i is None:
            return view
        view["author"]["avatar"] = hostile_url(i + 3)
        embed = view.get("embed") or {}
        for image in embed.get("images", []):
            image["thumb"] = image["fullsize"] = hostile_url(i + 4)
        if "external" in embed:
            embed["external"]["thumb"] = hostile_url(i + 5)
        return view

    world.rewrite_view = rewrite
    return world


def _facet(start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": start, "byteEnd": end},
        "features": [feature],
    }


def misskey_world(payloads: Sequence[str]) -> tuple[MisskeyWorld, Any]:
    """A Misskey server's notes, each payload in the note's MFM, its warning, its file's
    alt text, its author's name, bio and fields; and the rewrite that puts hostile URLs
    where the server writes addresses (the note's, the avatar, a custom emoji's)."""
    world = MisskeyWorld("misskey.example")
    index: dict[str, int] = {}
    for i, bad in enumerate(payloads):
        user = world.add_user(f"m{i}", name=bad, description=bad, fields=[(bad, bad)])
        note = world.add_note(user, f"{bad} :x: #{TAG}", created_at=_at(i), cw=bad if i % 2 else None,
                              files=[File(f"f{i}", "slide.png", comment=bad)])  # fmt: skip
        index[note.id] = i

    def rewrite(note: Note, packed: dict[str, Any]) -> dict[str, Any]:
        i = index.get(note.id)
        if i is None:
            return packed
        packed["url"] = hostile_url(i)
        packed["user"]["avatarUrl"] = hostile_url(i + 2)
        packed["user"]["name"] = payloads[i]
        packed["emojis"] = {"x": hostile_url(i + 6), payloads[i]: hostile_url(i + 6)}
        for file in packed["files"]:
            file["url"] = file["thumbnailUrl"] = hostile_url(i + 3)
        return packed

    return world, rewrite
