"""Export: the static archive, database in, a self-contained site out (reads only).

Call :func:`export_site` with a :class:`~backchannel.store.writer.Database` and
:class:`ExportOptions`; see ``docs/export.md`` for the site's layout and data files and
``docs/themes.md`` for themes. May import: store (models, reading), consent (the rule),
sanitize, events, resources, errors. Never writes to the database.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "site": ["ExportResult", "Progress", "export_site"],
        "options": ["ExportOptions"],
        "dates": ["date_text"],
        "selection": ["chunks", "load_index"],
        "writer": ["MANIFEST", "published_events"],
        "search": ["pagefind_binary"],
        "content": ["markdown_html", "post_html"],
        "robots": ["CSP"],
        "serve": ["serve_site", "site_app"],
    },
)
