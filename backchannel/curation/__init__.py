"""Curation: storyboards, drafting, post addresses, and hiding or featuring posts.

Everything a curator decides lives in curation's own rows; a collected post is never
edited. May import: store, consent (tombstone keys), export (the publishable index, for
drafting), sanitize, events, errors.
"""

from backchannel.lazy import exports

__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        "stories": [
            "ImportResult",
            "PostState",
            "export_story",
            "get_story",
            "import_story",
            "list_stories",
            "post_states",
            "remove_story",
            "set_state",
            "story_doc",
            "story_posts",
            "summary",
        ],
        "storyfile": ["Block", "StoryDoc", "format_story"],
        "revisions": [
            "current_revision",
            "list_revisions",
            "revision_markdown",
            "save_story",
        ],
        "drafting": [
            "DraftOptions",
            "ScheduledSession",
            "draft_story",
            "load_schedule",
            "parse_schedule",
            "schedule_toml",
            "schedule_of",
            "set_schedule",
        ],
    },
    namespaces=["addresses"],
)
