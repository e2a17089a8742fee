"""Conversations as one: the posts of the archive that answer each other, in threads.

A thread is a post of the archive and every post that answers it or one of its
answers, when there are two or more; its first post is one whose parent is not in
the archive (or that answers nothing). Each thread gets a page, and each of its posts
a link to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from backchannel.export.page_files import thread_file
from backchannel.export.selection import EventIndex, IndexedPost


@dataclass(frozen=True, slots=True)
class ThreadLink:
    href: str  # "thread-<root anchor>.html", relative to an event page
    posts: int  # in the conversation, the first post included


def answers(index: EventIndex) -> dict[int, list[IndexedPost]]:
    """The archived answers to each archived post, in time order (once an export)."""
    found = index.cache.get("answers")
    if found is None:
        found = index.cache["answers"] = {}
        for post in index.posts:
            parent = index.by_uri.get(post.reply_to_uri) if post.reply_to_uri else None
            if parent is not None and parent != post:
                found.setdefault(parent.id, []).append(post)
    return found


def threads(index: EventIndex) -> dict[int, list[tuple[IndexedPost, int]]]:
    """Each conversation of two posts or more in the archive, by its first post's id:
    its posts in reading order (each after the post it answers, in time order), with
    their depth (0 for the first post). Worked out once an export."""
    found = index.cache.get("threads")
    if found is not None:
        return found
    children = answers(index)
    answering = {child.id for posts in children.values() for child in posts}
    found = index.cache["threads"] = {}
    for root in index.posts:
        if root.id not in children or root.id in answering:
            continue
        members: list[tuple[IndexedPost, int]] = []
        stack = [(root, 0)]
        while stack:
            post, depth = stack.pop()
            members.append((post, depth))
            stack.extend((child, depth + 1) for child in reversed(children.get(post.id, ())))
        found[root.id] = members
    return found


def thread_links(index: EventIndex) -> dict[int, ThreadLink]:
    """For every post in a conversation, the link to it (made once per export)."""
    cached = index.cache.get("thread_links")
    if cached is None:
        cached = index.cache["thread_links"] = {}
        for members in threads(index).values():
            link = ThreadLink(thread_file(members[0][0]), len(members))
            for post, _depth in members:
                cached[post.id] = link
    return cached
