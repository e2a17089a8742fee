"""Collect: the services that drive the collectors, page by page, into the store.

The collect service, building collectors from the config, coverage, recheck, the
schedule and its scheduler, the run lock, ``status``, ``doctor`` and ``import``. May
import: collectors, importers, store, consent, media, export (a live re-export),
curation (an imported story), events, config, errors.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "service": ["SourceResult", "collect"],
        "importing": ["ImportResult", "import_file"],
        "coverage": ["Coverage", "SourceCoverage", "discover_sources", "event_coverage"],
        "rechecking": ["RecheckResult", "pending_rechecks", "recheck"],
        "scheduler": ["Scheduler"],
        "overview": ["Status", "status"],
        "doctor": ["Check", "probe_server", "run_checks"],
    },
)
