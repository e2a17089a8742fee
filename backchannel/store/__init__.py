"""Store: the schema, the database, and the only writers of collected data.

Models (no logic), engine and migrations, the page writer and the upkeep writers for
rechecks and removals. May import: collectors (``NormalizedPost``), consent (the rule
the writer applies), resources, errors.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "models": [
            "Author",
            "Base",
            "ChangeCounter",
            "CollectionRun",
            "ConsentOverride",
            "Cursor",
            "Event",
            "EventPost",
            "EventSource",
            "Exclusion",
            "HomeCheck",
            "ImportRecord",
            "Link",
            "Media",
            "Post",
            "PostChange",
            "PostChangeLog",
            "PostChangePruned",
            "PostSighting",
            "PostTag",
            "SchedulerLock",
            "Story",
            "StoryItem",
            "Tag",
            "ReleasedFile",
            "StoryRevision",
            "StudioAction",
            "StudioHistory",
            "StudioLink",
            "StudioSession",
            "StudioUser",
            "Tombstone",
            "utcnow",
        ],
        "db": ["Database", "head_revision", "upsert"],
        "writer": [
            "PageResult",
            "Target",
            "load_cursor",
            "reset_cursors",
            "save_page",
            "save_posts",
        ],
        "runs": [
            "add_to_run",
            "close_dead_runs",
            "finish_run",
            "owner_is_gone",
            "run_owner",
            "start_run",
        ],
        "search": [
            "BARE_FIRST_PAGES",
            "bare_first_page",
            "count_matches",
            "matching_posts",
            "words_of",
        ],
        "released": ["forget_releases", "release", "releases"],
        "changes": ["WATCHED", "change_count", "change_mark", "changed_posts", "prune_change_log"],
        "upkeep": [
            "apply_recheck",
            "erase_orphans",
            "erase_posts",
            "remove_post",
            "sync_profile_media",
        ],
    },
)
