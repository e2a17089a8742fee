"""twarc captures built for the tests, shaped as the Twitter API documented them.

v1.1 tweets (``id_str``, ``created_at`` as ``Wed Mar 20 09:15:00 +0000 2013``, HTML-
escaped text with code-point entity offsets, ``user``) and twarc2's API v2 lines
(pages with ``data``/``includes``/``errors``, a streamed tweet, a flattened tweet).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TAG = "swrb13"


def user_v1(user_id: str, screen_name: str, name: str = "", **extra: Any) -> dict[str, Any]:
    return {"id": int(user_id), "id_str": user_id, "screen_name": screen_name,
            "name": name or screen_name, "description": "", "protected": False,
            "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user_id}/a.jpg",
            **extra}  # fmt: skip


def _entities(text: str, urls: dict[str, str] | None = None) -> dict[str, Any]:
    """Entities found in ``text`` as the API gave them: code-point offsets."""
    found: dict[str, Any] = {"hashtags": [], "user_mentions": [], "urls": []}
    for word_start, word in _words(text):
        end = word_start + len(word)
        if word.startswith("#"):
            found["hashtags"].append({"text": word[1:], "indices": [word_start, end]})
        elif word.startswith("@"):
            found["user_mentions"].append({"screen_name": word[1:], "name": word[1:],
                                           "id_str": "1", "indices": [word_start, end]})  # fmt: skip
        elif word.startswith("https://t.co/"):
            expanded = (urls or {}).get(word, "https://example.org/long/path")
            found["urls"].append({"url": word, "expanded_url": expanded,
                                  "display_url": expanded.removeprefix("https://")[:26],
                                  "indices": [word_start, end]})  # fmt: skip
    return found


def _words(text: str) -> list[tuple[int, str]]:
    words, at = [], 0
    for word in text.split(" "):
        cleaned = word.rstrip(".,!?")
        if cleaned:
            words.append((at, cleaned))
        at += len(word) + 1
    return words


def tweet_v1(tweet_id: str, text: str, user: dict[str, Any],
             created: str = "Wed Mar 20 09:15:00 +0000 2013", field: str = "text",
             **extra: Any) -> dict[str, Any]:  # fmt: skip
    tweet: dict[str, Any] = {"created_at": created, "id": int(tweet_id), "id_str": tweet_id,
                             "user": user, "lang": "en", "retweet_count": 2,
                             "favorite_count": 3, **extra}  # fmt: skip
    if field == "extended_tweet":
        tweet["text"] = text[:100] + "\u2026"
        tweet["truncated"] = True
        tweet["extended_tweet"] = {"full_text": text, "entities": _entities(text)}
        tweet["entities"] = _entities(tweet["text"])
    else:
        tweet[field] = text
        tweet["entities"] = _entities(text)
    return tweet


def user_v2(user_id: str, username: str, name: str = "", **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "username": username, "name": name or username,
            "description": "", "protected": False, **extra}  # fmt: skip


def tweet_v2(tweet_id: str, text: str, author_id: str,
             created: str = "2013-03-20T10:00:00.000Z", **extra: Any) -> dict[str, Any]:  # fmt: skip
    entities = _entities(text)
    return {"id": tweet_id, "text": text, "author_id": author_id, "created_at": created,
            "lang": "en", "public_metrics": {"retweet_count": 1, "reply_count": 0,
                                             "like_count": 4, "quote_count": 0},
            "entities": {"hashtags": [{"start": h["indices"][0], "end": h["indices"][1],
                                       "tag": h["text"]} for h in entities["hashtags"]],
                         "mentions": [{"start": m["indices"][0], "end": m["indices"][1],
                                       "username": m["screen_name"]}
                                      for m in entities["user_mentions"]],
                         "urls": [{"start": u["indices"][0], "end": u["indices"][1],
                                   "url": u["url"], "expanded_url": u["expanded_url"],
                                   "display_url": u["display_url"]} for u in entities["urls"]]},
            **extra}  # fmt: skip


def write_lines(path: Path, lines: list[Any], cut_last: bool = False) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    if cut_last:
        text = text[: len(text) - len(text.splitlines()[-1]) // 2 - 1]
    path.write_text(text, encoding="utf-8")
    return path
