"""Consent: who and what may be archived and published, decided in one place.

The rule, the organiser's allow/deny lists and policy, home-server opt-out signals,
what may be published of imported posts, what was left out and why, tombstones, and
``forget``. May import: store, collectors,
curation (post addresses), export (re-export after forget), events, errors.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "rule": [
            "DELETED",
            "Policy",
            "Verdict",
            "author_verdict",
            "describe",
            "event_policy",
            "may_index",
            "normalize_handle",
            "post_exclusion_reason",
            "verdict",
        ],
        "admin": ["decisions", "remove_decision", "report", "set_decision", "set_policy"],
        "home_signals": ["HomeSignals"],
        "imported": ["ImportedRule", "NOT_IN_A_STORY", "imported_rule", "set_imported"],
        "tombstones": ["bury_posts", "handle_key", "key_hash"],
        "forgetting": ["ForgetResult", "forget", "forget_preview", "list_tombstones"],
    },
    namespaces=["exclusions"],
)
