"""The static archive: database in, a self-contained site out (reads only).

Call :func:`export_site` with a :class:`~backchannel.db.Database` and
:class:`ExportOptions`; see ``docs/export.md`` for the site's layout and data files and
``docs/themes.md`` for themes.
"""

from __future__ import annotations

from backchannel.export.site import ExportOptions, ExportResult, Progress, export_site

__all__ = ["ExportOptions", "ExportResult", "Progress", "export_site"]
