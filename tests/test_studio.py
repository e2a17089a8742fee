"""The studio (issue 15): its locks, the post browser and the story editor, over HTTP.

Starlette's test client drives the real application (routes, middleware, templates,
database); one test starts `backchannel studio` itself and signs in over a socket.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from backchannel.curation import export_story, import_story, list_stories
from backchannel.store import (
    Author,
    ConsentOverride,
    Database,
    Event,
    EventPost,
    Post,
    StudioAction,
    StudioUser,
)
from tests.export_fixture import build_fixture, build_hostile
from tests.helpers import run_cli, write_config
from tests.html_audit import Audit
from tests.studio_kit import (
    EDITOR,
    STORIES,
    STUDIO_SCRIPTS,
    TOKEN,
    Studio,
    add_account,
    backchannel,
    configured,
    free_port,
    make_studio,
    new_story,
    open_when_up,
    served,
    sign_in,
    until_done,
)
from tests.test_honest_zero import _Homepage

# -- the locks -----------------------------------------------------------------------


def test_nothing_opens_without_the_token(studio: Studio) -> None:
    for path in ("/", "/events/swrb13/posts", STORIES, "/events/swrb13/stories/day-one"):
        answer = studio.client.get(path)
        assert answer.status_code == 403 and "Not signed in" in answer.text, path
    wrong = studio.client.get("/login?token=guess")
    assert wrong.status_code == 403 and "does not open this studio" in wrong.text
    assert studio.client.get("/").status_code == 403
    studio.login()
    assert "SWRB conference 2013" in studio.client.get("/").text


def test_a_foreign_host_header_is_refused_even_with_the_token(db_url: str) -> None:
    db = build_fixture(db_url)
    try:
        for origin in ("http://rebound.example:8765", "http://127.0.0.1:9999"):
            studio = make_studio(db, origin)
            assert studio.client.get(f"/login?token={TOKEN}").status_code == 421
            assert studio.client.get("/").status_code == 421
    finally:
        db.dispose()


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(studio: Studio) -> None:
    studio.login()
    for fields in ({}, {"csrf": "forged"}):
        refused = studio.client.post(STORIES, data={"title": "Notes", "slug": "notes", **fields})
        assert refused.status_code == 403 and "CSRF" in refused.text
    with studio.db.reading() as session:
        assert [s.slug for s in list_stories(session, "swrb13")] == ["day-one"]


def test_every_page_has_a_strict_csp_and_no_script(studio: Studio) -> None:
    studio.login()
    new_story(studio)
    for path in ("/", "/events/swrb13/posts", STORIES, EDITOR, "/events/swrb13/posts?q=x"):
        page = studio.client.get(path)
        assert page.status_code == 200, path
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        audit = Audit(path, STUDIO_SCRIPTS)
        audit.feed(page.text)
        assert audit.problems == []
        for script in re.findall(r"<script[^>]*>(.*?)</script>", page.text, re.S):
            assert script == ""  # files only: nothing inline


def test_hostile_posts_are_inert_in_the_studio(db_url: str) -> None:
    db = build_hostile(db_url)
    studio = make_studio(db)
    try:
        with studio.client:
            studio.login()
            made = studio.client.post(
                "/events/hostile/stories",
                data={"csrf": studio.csrf("/events/hostile/stories"), "title": "T", "slug": "t"},
            )
            assert made.status_code == 303
            with db.reading() as session:
                uris = session.scalars(select(Post.uri)).all()
            for uri in uris:  # every hostile post in the story, so the editor shows each
                added = studio.change("/events/hostile/stories/t", action="add_post", address=uri)
                assert added.status_code == 303, added.text
            for path in ("/events/hostile/posts", "/events/hostile/stories/t"):
                page = studio.client.get(path)
                assert page.status_code == 200
                audit = Audit(path, STUDIO_SCRIPTS)
                audit.feed(page.text)
                assert audit.problems == []
                assert "evil.example" not in page.text
    finally:
        db.dispose()


# -- the post browser ------------------------------------------------------------------


def test_the_post_browser_finds_filters_and_sorts(studio: Studio) -> None:
    studio.login()
    everything = studio.client.get("/events/swrb13/posts").text
    total = int(re.search(r"(\d+) posts", everything).group(1))  # type: ignore[union-attr]
    with studio.db.reading() as session:
        texts = [t for t in session.scalars(select(Post.text)) if t]
    word = max((w for t in texts for w in t.split() if w.isalpha()), key=len)
    found = studio.client.get("/events/swrb13/posts", params={"q": word}).text
    matched = int(re.search(r"(\d+) posts?\b", found).group(1))  # type: ignore[union-attr]
    assert 1 <= matched < total
    assert sum(word.lower() in t.lower() for t in texts) >= matched
    bluesky = studio.client.get("/events/swrb13/posts", params={"platform": "bluesky"}).text
    assert "Mastodon</span>" not in bluesky and "Bluesky</span>" in bluesky


# -- the story editor ------------------------------------------------------------------


def test_a_story_built_in_the_studio_is_the_file_story_export_writes(studio: Studio) -> None:
    studio.login()
    new_story(studio)
    with studio.db.reading() as session:
        first, second = session.scalars(select(Post.uri).order_by(Post.created_at).limit(2))
    for form in (
        {"action": "add_post", "address": first},
        {"action": "add_post", "address": second},
        {"action": "add_heading", "text": "Morning"},
        {"action": "up", "index": "2"},
        {"action": "up", "index": "1"},
        {"action": "add_text", "text": "What people said *first*."},
        {"action": "note", "index": "1", "note": "The opening words."},
    ):
        done = studio.change(EDITOR, **form)
        assert done.status_code == 303, done.text
    page = studio.client.get(done.headers["location"])
    assert "Note on item 2 saved. Saved as revision 8." in page.text  # 1 created + 7 changes
    with studio.db.reading() as session:
        markdown = export_story(session, "swrb13", "notes")
    blocks = markdown.split("---\n", 2)[2].strip()
    assert blocks.startswith("## Morning\n\n" + first)
    assert "> The opening words." in blocks and blocks.index(first) < blocks.index(second)
    assert blocks.endswith("What people said *first*.")
    with studio.db.writing() as session:  # the same file back: the same story, no new revision
        assert import_story(session, markdown).revision == 8
    with studio.db.reading() as session:
        actions = session.scalars(select(StudioAction.action).order_by(StudioAction.id)).all()
        assert actions == ["log in", "create story", "add_post", "add_post", "add_heading",
                           "up", "up", "add_text", "note"]  # fmt: skip


def test_a_wrong_change_says_why_next_to_the_field_and_saves_nothing(studio: Studio) -> None:
    studio.login()
    new_story(studio)
    before = studio.revision(EDITOR)
    empty = studio.change(EDITOR, action="add_heading", text="   ")
    assert empty.status_code == 400
    assert 'id="change-error" role="alert">heading: write the heading&#39;s text' in empty.text
    unknown = studio.change(EDITOR, action="add_post", address="https://nowhere.example/1")
    assert unknown.status_code == 400 and 'aria-invalid="true"' in unknown.text
    assert studio.revision(EDITOR) == before


def test_a_new_storys_wrong_title_or_slug_is_named_beside_it(studio: Studio) -> None:
    studio.login()
    new_story(studio)
    for fields, where, message in (
        ({"title": " ", "slug": "empty"}, "title", "a story needs a title"),
        ({"title": "Notes again", "slug": "notes"}, "slug", "a story &#39;notes&#39; exists"),
    ):
        refused = studio.client.post(STORIES, data={"csrf": studio.csrf(STORIES), **fields})
        assert refused.status_code == 400
        assert re.search(rf'aria-describedby="story-{where}-error">\s*<p class="error" '
                         rf'id="story-{where}-error" role="alert">{message}', refused.text)  # fmt: skip
        assert f'value="{fields["slug"]}"' in refused.text  # what was typed stays
    with studio.db.reading() as session:
        assert [s.slug for s in list_stories(session, "swrb13")] == ["day-one", "notes"]


def test_opening_a_story_costs_the_same_queries_for_2_posts_as_for_all(studio: Studio) -> None:
    """No query per item (the editor of a 500-post story took 780 ms with one)."""
    from sqlalchemy import event as sql_event

    studio.login()
    with studio.db.reading() as session:
        uris = session.scalars(
            select(Post.uri)
            .join(EventPost, EventPost.post_id == Post.id)
            .where(Post.deleted_at.is_(None), EventPost.state != "hidden")
            .order_by(Post.id)
        ).all()
    counts = []
    for size in (2, len(uris)):
        slug = f"size-{size}"
        with studio.db.writing() as session:
            body = "\n\n".join(uris[:size])
            import_story(session, f"---\ntitle: T\nslug: {slug}\nevent: swrb13\n---\n\n{body}\n")
        statements: list[str] = []

        def count(*args: object, into: list[str] = statements) -> None:
            into.append(str(args[2]))

        sql_event.listen(studio.db.engine, "before_cursor_execute", count)
        try:
            page = studio.client.get(f"/events/swrb13/stories/{slug}")
        finally:
            sql_event.remove(studio.db.engine, "before_cursor_execute", count)
        assert page.status_code == 200 and page.text.count('class="item item-post"') == size
        counts.append(len(statements))
    assert len(uris) > 10 and counts[0] == counts[1], counts


def test_a_save_on_an_older_revision_is_refused_with_a_way_forward(studio: Studio) -> None:
    studio.login()
    new_story(studio)
    stale = {"csrf": studio.csrf(EDITOR), "revision": str(studio.revision(EDITOR))}
    elsewhere = studio.change(EDITOR, action="add_heading", text="From another tab")
    assert elsewhere.status_code == 303
    refused = studio.client.post(EDITOR, data={**stale, "action": "add_heading", "text": "Mine"})
    assert refused.status_code == 409
    assert "changed since this page was loaded" in refused.text
    with studio.db.reading() as session:
        assert "Mine" not in export_story(session, "swrb13", "notes")
    box = refused.text.split('<section class="conflict"')[1].split("</section>")[0]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', box))
    assert fields["revision"] == "2" and fields["text"] == "Mine"
    assert studio.client.post(EDITOR, data=fields).status_code == 303
    with studio.db.reading() as session:
        story = export_story(session, "swrb13", "notes")
        assert story.index("From another tab") < story.index("Mine")


def test_story_import_moves_the_revision_so_an_open_page_cannot_overwrite_it(
    studio: Studio,
) -> None:
    studio.login()
    new_story(studio)
    stale = {"csrf": studio.csrf(EDITOR), "revision": str(studio.revision(EDITOR))}
    with studio.db.writing() as session:
        source = export_story(session, "swrb13", "notes") + "\n## Added by file\n"
        import_story(session, source)
    refused = studio.client.post(EDITOR, data={**stale, "action": "add_text", "text": "x"})
    assert refused.status_code == 409


# -- the command -----------------------------------------------------------------------


def test_backchannel_studio_serves_on_loopback_and_signs_in_with_its_link(
    db_url: str, tmp_path: Path
) -> None:
    url = db_url
    build_fixture(url).dispose()
    config = write_config(tmp_path, url)
    with served(config) as (port, link), httpx.Client(timeout=5) as client:
        page = open_when_up(client, link)
        assert page.status_code == 200 and "SWRB conference 2013" in page.text
        assert client.get(f"http://127.0.0.1:{port}/login?token=x").status_code == 403


def test_common_words_walked_in_time_order_give_the_same_pages(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backchannel.events import get_event
    from backchannel.studio import browse

    with studio.db.reading() as session:
        event = get_event(session, "swrb13")
        words = {w for t in session.scalars(select(Post.text)) for w in t.split() if w.isalpha()}
        queries = sorted(words)[:15] + ["swrb13", ""]

        def pages(walk_from: int) -> list[list[str]]:
            monkeypatch.setattr(browse, "WALK_FROM", walk_from)
            monkeypatch.setattr(browse, "PAGE", 3)
            found = []
            for text in queries:
                for page in (1, 2):
                    got = browse.search_posts(session, event, browse.PostQuery(text, page=page))
                    found.append([p.uri for p, _ in got.posts] + [str(got.total)])
            return found

        walked, looked_up = pages(1), pages(10**9)
    assert walked == looked_up
    assert sum(len(p) > 1 for p in walked) > 10  # most queries found posts


def test_undo_redo_and_going_back_are_revisions_too(studio: Studio) -> None:
    studio.login()
    new_story(studio)

    def story() -> str:
        with studio.db.reading() as session:
            return export_story(session, "swrb13", "notes").split("---\n", 2)[2].strip()

    assert "Undo" not in studio.client.get(EDITOR).text  # nothing done yet
    studio.change(EDITOR, action="add_heading", text="One")
    studio.change(EDITOR, action="add_heading", text="Two")
    assert story() == "## One\n\n## Two"
    undone = studio.change(EDITOR, action="undo")
    assert undone.status_code == 303 and story() == "## One"
    page = studio.client.get(undone.headers["location"]).text
    assert "Undone. Saved as revision 4." in page and "Redo" in page
    studio.change(EDITOR, action="undo")
    assert story() == ""
    assert studio.change(EDITOR, action="undo").status_code == 400  # nothing left to undo
    studio.change(EDITOR, action="redo")
    studio.change(EDITOR, action="redo")
    assert story() == "## One\n\n## Two"
    assert studio.change(EDITOR, action="redo").status_code == 400
    studio.change(EDITOR, action="restore", number="2")
    assert story() == "## One"
    studio.change(EDITOR, action="add_text", text="New")  # a new change ends the redo
    assert studio.change(EDITOR, action="redo").status_code == 400
    assert studio.revision(EDITOR) == 9


# -- accounts and roles ----------------------------------------------------------------


def test_accounts_sign_in_with_a_password_kept_as_argon2id(
    with_accounts: tuple[Studio, Path],
) -> None:
    studio, config = with_accounts
    assert studio.client.get("/login").status_code == 403  # no accounts: link only
    add_account(studio, config, "aroha", "curator")
    with studio.db.reading() as session:
        stored = session.scalars(select(StudioUser.password_hash)).one()
    assert stored.startswith("$argon2id$") and "secret" not in stored
    assert sign_in(studio, "aroha", "a wrong password!!") == 400
    assert sign_in(studio, "nobody") == 400
    assert studio.client.get("/").status_code == 403
    assert sign_in(studio, "aroha") == 303
    assert "Signed in as aroha" in studio.client.get("/").text
    short = run_cli("studio", "user", "add", "tui", "--role", "curator", config=config,
                    input="short\nshort\n")  # fmt: skip
    assert short.exit_code == 1 and "password: at least 12 characters" in short.output


def test_a_curator_hides_and_features_but_is_refused_an_organiser_action(
    with_accounts: tuple[Studio, Path],
) -> None:
    studio, config = with_accounts
    add_account(studio, config, "aroha", "curator")
    assert sign_in(studio, "aroha") == 303
    posts = "/events/swrb13/posts"
    page = studio.client.get(posts).text
    assert "out of this event" not in page  # not offered to a curator
    with studio.db.reading() as session:
        uri, handle = session.execute(
            select(Post.uri, Author.handle).join(Author).order_by(Post.created_at).limit(1)
        ).one()
    with studio.db.reading() as session:
        decisions = session.scalars(select(ConsentOverride.handle)).all()
    token = studio.csrf(posts)
    nothing = studio.client.post(posts, data={"csrf": token, "action": "hidden", "address": uri})
    assert "Not done: reason: say why the post is hidden" in studio.client.get(
        nothing.headers["location"]).text  # fmt: skip
    hidden = studio.client.post(posts, data={"csrf": token, "action": "hidden",
                                             "address": uri, "reason": "asked to"})  # fmt: skip
    assert "Post hidden." in studio.client.get(hidden.headers["location"]).text
    refused = studio.client.post(posts, data={"csrf": token, "action": "deny", "handle": handle})
    assert refused.status_code == 403 and "Only an organiser" in refused.text
    with studio.db.reading() as session:
        assert session.scalars(select(ConsentOverride.handle)).all() == decisions
        assert session.scalar(select(EventPost.state).join(Post).where(Post.uri == uri)) == (
            "hidden"
        )
    add_account(studio, config, "mere", "organiser")
    studio.client.cookies.clear()
    assert sign_in(studio, "mere") == 303
    token = studio.csrf(posts)
    denied = studio.client.post(posts, data={"csrf": token, "action": "deny", "handle": handle})
    assert denied.status_code == 303
    with studio.db.reading() as session:
        who = session.scalars(select(StudioAction.who).where(StudioAction.action == "deny"))
        assert who.all() == ["mere"]
        assert (
            session.scalar(select(ConsentOverride.decision).where(ConsentOverride.handle == handle))
            == "deny"
        )


def test_another_address_than_loopback_needs_accounts(db_url: str, tmp_path: Path) -> None:
    url = db_url
    build_fixture(url).dispose()
    config = write_config(tmp_path, url)
    refused = run_cli("studio", "--host", "192.0.2.10", "--no-browser", config=config)
    assert refused.exit_code == 1
    assert "only once accounts exist; add one with `backchannel studio user add" in (refused.output)


# -- preview and publish ---------------------------------------------------------------


def test_preview_and_publish_run_the_exporter_and_link_to_the_result(
    organising: Studio, tmp_path: Path
) -> None:
    studio, site = organising, tmp_path / "site"
    assert studio.client.get("/preview/swrb13/index.html").status_code == 403
    studio.login()
    for kind, root in (("preview", "/preview"), ("publish", "/site")):
        started = studio.client.post(f"/events/swrb13/{kind}", data={"csrf": studio.csrf(STORIES)})
        assert started.status_code == 303
        page = until_done(studio, kind)
        assert "Done:" in page and f'href="{root}/swrb13/index.html"' in page
        opened = studio.client.get(f"{root}/swrb13/index.html")
        assert opened.status_code == 200 and "SWRB conference 2013" in opened.text
        assert "wasm-unsafe-eval" in opened.headers["content-security-policy"]
        story = studio.client.get(f"{root}/swrb13/story-day-one.html")
        assert story.status_code == 200 and "Day one in posts" in story.text
    assert (site / "swrb13" / "index.html").is_file()  # published into the site
    studio.client.cookies.clear()
    assert studio.client.get("/site/swrb13/index.html").status_code == 403


def test_demo_studio_leaves_the_studio_running_on_the_demo_data(tmp_path: Path) -> None:
    port = free_port()
    child = backchannel("demo", "--studio", "--no-browser", "--port", str(port),
                        "--out", str(tmp_path / "site"), "--data", str(tmp_path / "data"),
                        cwd=tmp_path)  # fmt: skip
    try:
        assert child.stdout is not None
        link = None
        for line in child.stdout:  # the demo's report, then the studio's address
            link = re.search(r"http://127\.0\.0\.1:\d+/login\?token=\S+", line)
            if link:
                break
        assert link is not None
        with httpx.Client(timeout=5) as client:
            page = open_when_up(client, link.group(0))
            assert page.status_code == 200 and "swrs26" in page.text
            posts = client.get(f"http://127.0.0.1:{port}/events/swrs26/posts")
            assert posts.status_code == 200
            counted = re.search(r'<p role="status">(?:More than )?([\d,]+) posts', posts.text)
            assert counted is not None and int(counted.group(1).replace(",", "")) > 0
    finally:
        child.terminate()
        child.wait(10)


def test_forget_says_what_will_go_needs_a_reason_and_is_for_organisers(organising: Studio) -> None:
    studio, db = organising, organising.db
    studio.login()
    with db.reading() as session:
        handle = session.scalars(select(Author.handle).order_by(Author.id)).first()
        count = session.scalar(
            select(func.count()).select_from(Post).join(Author)
            .where(Author.handle == handle)
        )  # fmt: skip
    page = studio.client.get("/events/swrb13/forget", params={"author": handle})
    assert page.status_code == 200
    assert f"<li>{count} post(s) by @{handle}, with their media</li>" in page.text
    with db.reading() as session:  # the preview removed nothing
        assert session.scalar(select(func.count()).select_from(Post).join(Author)
                              .where(Author.handle == handle)) == count  # fmt: skip
    form = {"csrf": studio.csrf(STORIES), "author": handle}
    missing = studio.client.post("/events/swrb13/forget", data=form)
    assert missing.status_code == 400 and "reason: say why" in missing.text
    done = studio.client.post("/events/swrb13/forget", data={**form, "reason": "asked"})
    assert done.status_code == 200
    assert f"Forgotten: {count} post(s) and 1 author(s)" in done.text
    with db.reading() as session:
        assert session.scalar(select(Author.id).where(Author.handle == handle)) is None
        assert session.scalars(select(StudioAction.action)).all()[-1] == "forget"


def test_a_curator_is_refused_forget(with_accounts: tuple[Studio, Path]) -> None:
    studio, config = with_accounts
    add_account(studio, config, "aroha", "curator")
    assert sign_in(studio, "aroha") == 303
    refused = studio.client.get("/events/swrb13/forget", params={"author": "ana@x.example"})
    assert refused.status_code == 403 and "Only an organiser" in refused.text


def test_an_unknown_event_or_story_is_a_404_that_says_so(studio: Studio) -> None:
    studio.login()
    for path in ("/events/nope/posts", "/events/nope/stories", "/events/swrb13/stories/nope"):
        answer = studio.client.get(path)
        assert answer.status_code == 404 and answer.text.startswith("Not found: "), path


def test_threads_headings_and_filters_for_building_a_section(studio: Studio) -> None:
    studio.login()
    new_story(studio)
    with studio.db.reading() as session:
        replies = session.scalars(
            select(Post).where(Post.reply_root_uri.is_not(None)).order_by(Post.created_at)
        ).all()
        assert replies, "the fixture has a thread"
        root = replies[0].reply_root_uri
        thread = sorted(
            p.uri for p in session.scalars(select(Post))
            if p.uri == root or p.reply_root_uri == root
        )  # fmt: skip
        answered = session.scalar(
            select(func.count()).select_from(Post).where(Post.reply_count > 0)
        )
    page = studio.client.get("/events/swrb13/posts", params={"replies": "1"}).text
    assert f'role="status">{answered} post' in page
    added = studio.change(EDITOR, action="add_thread", address=replies[0].uri)
    assert added.status_code == 303
    shown = studio.client.get(added.headers["location"]).text
    assert f"{len(thread)} post(s) of the thread added at the end." in shown
    with studio.db.reading() as session:
        story = export_story(session, "swrb13", "notes")
    assert sorted(u for u in thread if u in story) == thread
    # The search beside the story leaves out what it holds, unless asked.
    assert thread[0] not in studio.client.get(EDITOR).text.split('class="browser"')[1]
    assert thread[0] in studio.client.get(EDITOR + "?held=show").text.split('class="browser"')[1]
    # A heading at the end, then the first post moved under it by the keyboard's form.
    studio.change(EDITOR, action="add_heading", text="Replies")
    heading = len(thread)
    moved = studio.change(EDITOR, action="to_heading", index="0", heading=str(heading))
    said = studio.client.get(moved.headers["location"]).text
    assert f"Item 1 moved under “Replies”: now item {len(thread) + 1}." in said
    with studio.db.reading() as session:
        blocks = export_story(session, "swrb13", "notes").split("## Replies", 1)
    assert blocks[1].count("\n<!--") == 1  # one post under the heading now


def test_the_post_browser_pages_keep_their_filters(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backchannel.studio import browse

    monkeypatch.setattr(browse, "PAGE", 2)
    studio.login()
    params = {"platform": "mastodon", "sort": "likes", "page": "1"}
    page = studio.client.get("/events/swrb13/posts", params=params)
    (link,) = re.findall(r'rel="next" href="([^"]+)"', page.text)
    link = link.replace("&amp;", "&")
    assert "platform=mastodon" in link and "sort=likes" in link and "page=2" in link
    second = studio.client.get("/events/swrb13/posts" + link).text
    assert "page 2 of" in second and 'rel="prev"' in second


def test_suggestions_for_a_section_are_its_hours_busiest_posts_not_yet_in_the_story(
    studio: Studio,
) -> None:
    studio.login()
    new_story(studio)
    with studio.db.reading() as session:
        posts = session.scalars(select(Post).order_by(Post.created_at)).all()
    hours: dict[object, list[Post]] = {}
    for post in posts:
        hours.setdefault(post.created_at.replace(minute=0, second=0, microsecond=0), []).append(
            post
        )
    first, *same_hour = max(hours.values(), key=len)  # the busiest hour
    assert same_hour, "the fixture has an hour with more than one post"
    studio.change(EDITOR, action="add_heading", text="First hour")
    studio.change(EDITOR, action="add_post", address=first.uri)
    page = studio.client.get(EDITOR).text
    box = page.split('<details class="suggested">')[1].split("</details>")[0]
    offered = re.findall(r'name="address" value="([^"]+)"', box)
    busiest = sorted(same_hour, key=lambda p: (-(p.reply_count + p.repost_count), p.created_at))
    assert offered == [p.uri for p in busiest[:3]] and first.uri not in offered
    added = studio.change(EDITOR, action="add_post", address=offered[0], to="2")
    assert "Post added as item 3 of 3." in studio.client.get(added.headers["location"]).text


# -- the organiser's pages -------------------------------------------------------------


def test_an_organiser_adds_an_event_a_source_collects_now_and_sets_consent(
    db_url: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from backchannel.sandbox.mastodon_server import MastodonSandbox
    from backchannel.sandbox.mastodon_world import MastodonWorld

    world = MastodonWorld()
    world.add_instance("kea.example")
    ana = world.add_account("ana", "kea.example", display_name="Ana")
    for i in range(45):
        world.add_post(ana, f"post {i} #swrs26", created_at=datetime(2026, 3, 12, 9, i, tzinfo=UTC))
    url = db_url
    path = write_config(tmp_path, url, f"[archive]\nsite_dir = '{tmp_path / 'site'}'\n")
    assert run_cli("init", config=path).exit_code == 0
    db = Database(url)
    studio = configured(db, path)
    fields = {"slug": "swrs26", "title": "SWRS 2026", "hashtags": "swrs26",
              "start": "2026-03-12", "end": "2026-03-13", "timezone": "Mars/Olympus"}  # fmt: skip
    try:
        with studio.client, MastodonSandbox(world) as sandbox:
            studio.login()
            wrong = studio.client.post("/", data={**fields, "csrf": studio.csrf("/")})
            assert wrong.status_code == 400 and "Mars/Olympus" in wrong.text
            assert 'value="SWRS 2026"' in wrong.text  # what was typed stays
            made = studio.client.post("/", data={**fields, "timezone": "UTC",
                                                 "csrf": studio.csrf("/")})  # fmt: skip
            assert made.status_code == 303 and made.headers["location"] == "/events/swrs26/organise"
            page = "/events/swrs26/organise"
            server = sandbox.instances["kea.example"].base_url
            added = studio.client.post(
                page, data={"csrf": studio.csrf(page), "action": "add_source", "url": server}
            )
            assert (
                f"Added mastodon at {server}." in studio.client.get(added.headers["location"]).text
            )
            with _Homepage() as homepage:  # a web server that is not Mastodon
                asked = studio.client.post(page, data={"csrf": studio.csrf(page),
                                                       "action": "add_source",
                                                       "url": homepage.base_url})  # fmt: skip
                assert asked.status_code == 400
                assert (f"{homepage.base_url}: not a Mastodon server (HTTP 404 for "
                        "/api/v1/instance). Check the address, or tick “Keep it anyway”"
                        ) in html.unescape(asked.text)  # fmt: skip
                kept = studio.client.post(page, data={"csrf": studio.csrf(page),
                                                      "action": "add_source", "keep": "1",
                                                      "url": homepage.base_url})  # fmt: skip
                assert kept.status_code == 303
                removed = run_cli("event", "remove-source", "swrs26", homepage.base_url,
                                  config=path)  # fmt: skip
                assert removed.exit_code == 0, removed.output
            started = studio.client.post(
                page, data={"csrf": studio.csrf(page), "action": "collect"}
            )
            assert started.status_code == 303
            for _ in range(200):
                shown = studio.client.get(page).text
                if "has finished" in shown:
                    break
                time.sleep(0.05)
            assert f"{server}: 2 page(s), 45 new: ok" in shown
            assert "<td>ok</td>" in shown and "<td>45, 45</td>" in shown
            denied = studio.client.post(
                page,
                data={
                    "csrf": studio.csrf(page),
                    "action": "deny",
                    "handle": "ana@kea.example",
                    "note": "asked",
                },
            )
            assert "@ana@kea.example: deny." in studio.client.get(denied.headers["location"]).text
            assert "@ana@kea.example: deny (asked)" in studio.client.get(page).text

            def post(**form: str) -> httpx.Response:
                return studio.client.post(page, data={"csrf": studio.csrf(page), **form})

            renamed = post(action="edit", title="SWRS 2026, Ōtautahi", description="Two days.")
            assert "Saved: title, description." in studio.client.get(
                renamed.headers["location"]).text  # fmt: skip
            backwards = (
                '[[session]]\ntitle = "Keynote"\nstart = "2026-03-12 10:00"\n'
                'end = "2026-03-12 09:00"\n'
            )
            refused = post(action="schedule", schedule=backwards)
            assert refused.status_code == 400
            assert "session 1 (Keynote): ends before it starts" in refused.text
            assert "2026-03-12 10:00" in refused.text  # what was typed stays to be fixed
            fixed = backwards.replace(
                'end = "2026-03-12 09:00"', 'end = "2026-03-12 09:30"'
            ).replace('start = "2026-03-12 10:00"', 'start = "2026-03-12 09:00"')
            saved = post(action="schedule", schedule=fixed)
            assert "The schedule has 1 session(s)." in studio.client.get(
                saved.headers["location"]).text  # fmt: skip
            by_session = studio.client.get("/events/swrs26/posts", params={"session": "Keynote"})
            assert 'role="status">30 posts' in by_session.text  # 09:00 to 09:30 UTC
            assert "SWRS 2026, Ōtautahi" in studio.client.get("/").text
    finally:
        db.dispose()


def test_an_organiser_edits_hashtags_and_window_each_error_beside_its_field(
    organising: Studio,
) -> None:
    studio, db = organising, organising.db
    page = "/events/swrb13/organise"

    def event_row() -> tuple[object, ...]:
        with db.reading() as session:
            event = session.scalars(select(Event)).one()
            return (event.title, event.hashtags, event.starts_at, event.ends_at, event.timezone)

    def send(**changes: str) -> httpx.Response:
        form = studio.client.get(page).text
        fields = {name: html.unescape(value) for name, value in
                  re.findall(r'<input id="event-[^"]+" name="(\w+)" value="([^"]*)"', form)}  # fmt: skip
        assert set(fields) >= {"hashtags", "start", "end", "timezone", "margin_before"}
        return studio.client.post(page, data={**fields, **changes, "action": "edit",
                                              "csrf": studio.csrf(page)})  # fmt: skip

    studio.login()
    before = event_row()
    unchanged = send()  # the form as filled in changes nothing
    assert "Nothing changed." in studio.client.get(unchanged.headers["location"]).text
    assert event_row() == before
    wrong = send(hashtags="swrb13 swrb2013", end="2013-11-10")
    assert wrong.status_code == 400 and event_row() == before
    assert re.search(r'id="event-end" name="end" value="2013-11-10" aria-invalid="true" '
                     r'aria-describedby="event-end-error"', wrong.text)  # fmt: skip
    assert re.search(r'<p class="error" id="event-end-error" role="alert">the event '
                     r"would end \(2013-11-11 00:00\) before it starts", wrong.text)  # fmt: skip
    assert 'value="swrb13 swrb2013"' in wrong.text  # what was typed stays
    assert wrong.text.count('class="error"') == 1  # beside the field, not on top too
    bad_source = studio.client.post(page, data={"action": "add_source", "url": "kea.example",
                                                "csrf": studio.csrf(page)})  # fmt: skip
    assert bad_source.status_code == 400
    assert re.search(r'id="organise-url" name="url" value="kea.example" inputmode="url" '
                     r'aria-invalid="true" aria-describedby="organise-url-error">\s*'
                     r'<p class="error" id="organise-url-error" role="alert">not a server '
                     r"URL", html.unescape(bad_source.text))  # fmt: skip
    saved = send(hashtags="swrb13 swrb2013", end="2013-11-16")
    said = studio.client.get(saved.headers["location"]).text
    assert "Saved: hashtags, end." in said and "outside" not in said
    with db.reading() as session:
        event = session.scalars(select(Event)).one()
        assert event.hashtags == ["swrb13", "swrb2013"]
        assert (event.ends_at - before[3]).days == 1  # type: ignore[operator]
        held = session.scalar(  # all carry #swrb13; the forgotten one is not counted
            select(func.count())
            .select_from(EventPost)
            .join(Post, Post.id == EventPost.post_id)
            .where(Post.deleted_at.is_(None))
        )
        logged = session.scalars(select(StudioAction.action)).all()
    assert logged.count("edit") == 2  # the unchanged save and this one
    narrowed = send(hashtags="swrb2013")
    said = html.unescape(studio.client.get(narrowed.headers["location"]).text)
    assert f"{held} post(s) already collected are now outside the window or the " in said
    taken = studio.client.post(
        "/", data={"slug": "swrb13", "title": "Again", "hashtags": "x", "start": "2014-01-01",
                   "end": "2014-01-02", "timezone": "UTC", "csrf": studio.csrf("/")},
    )  # fmt: skip
    assert taken.status_code == 400
    assert re.search(r'<p class="error" id="event-slug-error" role="alert">an event '
                     r"with the slug 'swrb13' already exists", html.unescape(taken.text))  # fmt: skip


def test_signing_out_needs_the_csrf_token_and_ends_the_session(studio: Studio) -> None:
    studio.login()
    page = studio.client.get("/").text
    assert 'action="/logout"' in page and ">Sign out</button>" in page
    forged = studio.client.post("/logout", data={"csrf": "forged"})
    assert forged.status_code == 403 and studio.client.get("/").status_code == 200
    out = studio.client.post("/logout", data={"csrf": studio.csrf("/")})
    assert out.status_code == 200 and "<h1>Signed out</h1>" in out.text
    assert studio.client.get("/").status_code == 403
    assert studio.client.get(EDITOR).status_code == 403
    with studio.db.reading() as session:
        assert session.scalars(select(StudioAction.action)).all() == ["log in", "log out"]


def test_removing_an_account_ends_its_session_at_the_next_page(
    organising: Studio, tmp_path: Path
) -> None:
    studio, config = organising, tmp_path / "config.toml"
    add_account(studio, config, "tane", "organiser")
    assert sign_in(studio, "tane") == 303
    assert studio.client.get("/events/swrb13/organise").status_code == 200
    started = studio.client.post("/events/swrb13/publish", data={"csrf": studio.csrf(STORIES)})
    assert started.status_code == 303 and "Done:" in until_done(studio, "publish")
    assert studio.client.get("/site/swrb13/index.html").status_code == 200
    # Removed and added again, as a curator: the old session does not carry over.
    assert run_cli("studio", "user", "remove", "tane", config=config).exit_code == 0
    add_account(studio, config, "tane", "curator")
    assert studio.client.get("/site/swrb13/index.html").status_code == 403
    gone = studio.client.get("/events/swrb13/organise")
    assert gone.status_code == 403 and "Not signed in" in gone.text
    assert sign_in(studio, "tane") == 303
    refused = studio.client.get("/events/swrb13/organise")
    assert refused.status_code == 403 and "Only an organiser" in refused.text
    assert studio.client.get("/site/swrb13/index.html").status_code == 200
    with studio.db.writing() as session:  # a role changed in the database ends it at once
        session.scalars(
            select(StudioUser).where(StudioUser.name == "tane")
        ).one().role = "organiser"
    assert studio.client.get("/events/swrb13/organise").status_code == 403
    assert sign_in(studio, "tane") == 303  # signed in again, with the new role
    assert studio.client.get("/events/swrb13/organise").status_code == 200


def test_the_activity_page_lists_the_action_log_for_organisers_only(
    with_accounts: tuple[Studio, Path],
) -> None:
    studio, config = with_accounts
    add_account(studio, config, "aroha", "curator")
    assert sign_in(studio, "<script>alert(1)</script>", "a wrong guess, again") == 400
    assert sign_in(studio, "aroha") == 303
    refused = studio.client.get("/activity")
    assert refused.status_code == 403 and "Only an organiser" in refused.text
    assert 'href="/activity"' not in studio.client.get("/").text
    studio.client.post("/logout", data={"csrf": studio.csrf("/")})
    studio.login()  # the organiser's link
    assert 'href="/activity"' in studio.client.get("/").text
    page = studio.client.get("/activity").text
    rows = re.findall(r"<tr><td>[^<]+</td><td>([^<]*)</td><td>([^<]*)</td>", page)
    assert re.fullmatch(r"link made at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(#\d+\)", rows[0][0])
    assert rows == [
        (rows[0][0], "log in"),
        ("aroha", "log out"),
        ("aroha", "log in"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "wrong password"),
    ]
    assert "<script>" not in page


def test_a_curator_is_refused_the_organisers_pages(with_accounts: tuple[Studio, Path]) -> None:
    studio, config = with_accounts
    add_account(studio, config, "aroha", "curator")
    assert sign_in(studio, "aroha") == 303
    assert "Add an event" not in studio.client.get("/").text
    refused = studio.client.post("/", data={"csrf": studio.csrf(STORIES), "slug": "x"})
    assert refused.status_code == 403 and "Only an organiser" in refused.text
    page = studio.client.get("/events/swrb13/organise")
    assert page.status_code == 403 and "Only an organiser" in page.text


def test_a_post_in_a_thread_opens_its_thread_in_the_browser(studio: Studio) -> None:
    studio.login()
    with studio.db.reading() as session:
        reply = session.scalars(
            select(Post).where(Post.reply_root_uri.is_not(None)).order_by(Post.created_at)
        ).first()
        assert reply is not None
        root = session.scalars(select(Post).where(Post.uri == reply.reply_root_uri)).one()
        names = (root.author.display_name, root.author.handle)
    page = studio.client.get("/events/swrb13/posts").text
    assert page.count('<details class="thread">') >= 2  # the root's and the reply's
    box = page.split('<details class="thread">')[1].split("</details>")[0]
    assert "(this post)" in box and "posts)</summary>" in box
    assert names[0] in box or names[1] in box


def test_the_events_page_gives_an_organiser_the_status_facts(organising: Studio) -> None:
    studio = organising
    studio.login()
    page = studio.client.get("/").text
    assert "Scheduler: not running (start it with <code>backchannel run</code>)." in page
    assert re.search(r"\(swrb13; (before|during|after|done), \d+ posts collected", page)


def test_a_post_hidden_after_it_was_placed_is_named_and_one_remove_saves(
    studio: Studio,
) -> None:
    from backchannel.curation import set_state

    studio.login()
    new_story(studio)
    with studio.db.reading() as session:
        first, second = session.scalars(select(Post.uri).order_by(Post.created_at).limit(2))
    for address in (first, second):
        studio.change(EDITOR, action="add_post", address=address)
    with studio.db.writing() as session:
        set_state(session, second, "hidden", "asked to", "swrb13")
    page = studio.client.get(EDITOR).text
    assert page.count("has been hidden since it was placed") == 1
    blocked = studio.change(EDITOR, action="add_heading", text="More")
    assert blocked.status_code == 400 and "is hidden" in blocked.text
    removed = studio.change(EDITOR, action="remove", index="1")
    assert removed.status_code == 303
    with studio.db.reading() as session:
        story = export_story(session, "swrb13", "notes")
    assert first in story and second not in story
