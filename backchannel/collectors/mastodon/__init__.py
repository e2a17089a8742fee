"""Mastodon-API servers (Mastodon, GoToSocial, Akkoma, Pixelfed, Friendica, Mitra,
snac and others) through Mastodon.py: the collector's walk (``collector``), its cursor
and how it compares ids (``cursor``), the HTTP client (``client``), Status JSON to
``NormalizedPost`` (``normalize``), rechecks (``recheck``) and the home-server lookups
(``lookup``). Names come from :mod:`backchannel.collectors`."""
