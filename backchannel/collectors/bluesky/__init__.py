"""Bluesky through atproto: the collector (``collector``), the logged-in session
(``session``), post views to ``NormalizedPost`` (``normalize``), rich text to safe HTML
(``facets``) and rechecks (``recheck``). Names come from :mod:`backchannel.collectors`."""
