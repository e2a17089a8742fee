"""Media: local copies of attachments, avatars and emoji, in a content-addressed store.

Fetching what is due, downloading one file politely and safely, and the store of files
named by their hash. May import: store, collectors (retry policy, request
deadlines), events, config, errors.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "fetch": ["MediaResult", "fetch_media", "media_backlog"],
        "files": ["MediaStore", "prune"],
    },
)
