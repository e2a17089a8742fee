"""The Misskey family (Misskey, Sharkey, Iceshrimp, Firefish, CherryPick) through its
own API over httpx: the collector (``collector``), the HTTP client (``client``), notes
to ``NormalizedPost`` (``normalize``) and rechecks (``recheck``). Names come from
:mod:`backchannel.collectors`."""
