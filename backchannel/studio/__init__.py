"""Studio: the local web application where curators build stories and browse posts.

A Starlette application (:func:`create_app`) over the same services as the command
line, served by uvicorn on 127.0.0.1 (:func:`run_studio`). Post content reaches its
pages only through the exporter's sanitised path. May import: store, curation, consent,
export, media, collect, events, event_edits, resources, errors.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "app": ["create_app"],
        "server": ["run_studio", "studio_url"],
        "accounts": ["add_user", "has_accounts", "list_users", "remove_user", "set_role"],
        "sessions": ["end_sessions", "list_sessions"],
        "links": ["make_link"],
    },
)
