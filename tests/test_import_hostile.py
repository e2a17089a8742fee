"""Issue 35's hostile files: every payload of the hostile suite (972) in every text
field of each import format (tweet text, names, bios, alt text, Storify text blocks
and element titles, link addresses), imported, exported with everything published,
audited as HTML, and opened in Chromium: nothing runs, nothing is asked off the site."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest

from tests.car_files import Repo, post_record
from tests.export_browser import Watch, browser, serve
from tests.helpers import run_cli, write_config
from tests.hostile_corpus import hostile_url, payloads
from tests.html_audit import audit_site
from tests.test_import_tags import HEADER

TAG = "hx"
WHEN_V1 = "Thu Mar 12 10:00:00 +0000 2026"
WHEN_ISO = "2026-03-12T10:00:00Z"


def _twarc(folder: Path) -> Path:
    path = folder / "hostile.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, payload in enumerate(payloads()):
            text = f"{payload} https://t.co/x{i} #{TAG}"
            start = text.index(f"https://t.co/x{i}")
            tweet = {
                "id_str": str(900000000000000000 + i), "created_at": WHEN_V1, "full_text": text,
                "user": {"id_str": str(5000 + i), "screen_name": f"u{i}", "name": payload,
                         "description": payload, "location": payload,
                         "profile_image_url_https": hostile_url(i)},
                "entities": {"urls": [{"url": f"https://t.co/x{i}", "expanded_url": hostile_url(i),
                                       "display_url": payload, "indices": [start, start + len(f"https://t.co/x{i}")]}]},
                "extended_entities": {"media": [{"url": "https://t.co/m", "type": "photo",
                                                 "media_url_https": hostile_url(i + 1),
                                                 "ext_alt_text": payload}]},
            }  # fmt: skip
            out.write(json.dumps(tweet) + "\n")
    return path


def _tags(folder: Path) -> Path:
    path = folder / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i, payload in enumerate(payloads()):
            row = dict.fromkeys(HEADER, "")
            row.update(id_str=str(910000000000000000 + i), from_user=f"t{i}",
                       text=f"{payload} #{TAG}", created_at=WHEN_V1, from_user_id_str=str(8000 + i),
                       profile_image_url=hostile_url(i), status_url=hostile_url(i),
                       entities_str=payload)  # fmt: skip
            writer.writerow([row[h] for h in HEADER])
    return path


def _storify(folder: Path) -> Path:
    elements = []
    for i, payload in enumerate(payloads()):
        elements += [
            {"id": f"t{i}", "type": "text", "data": {"text": payload}},
            {"id": f"c{i}", "type": "link", "permalink": hostile_url(i), "source": {"name": payload},
             "data": {"link": {"title": payload, "description": payload}},
             "attribution": {"name": payload}},
            {"id": f"w{i}", "type": "quote", "permalink": f"https://twitter.com/s{i}/status/{920000000000000000 + i}",
             "source": {"name": "twitter"}, "posted_at": WHEN_ISO,
             "data": {"quote": {"text": payload}},
             "attribution": {"name": payload, "username": f"s{i}", "thumbnail": hostile_url(i)}},
        ]  # fmt: skip
    story = {"content": {"title": payloads()[0], "slug": "hostile-story", "description": payloads()[1],
                         "author": {"name": payloads()[2]}, "elements": elements}}  # fmt: skip
    path = folder / "storify.json"
    path.write_text(json.dumps(story), encoding="utf-8")
    return path


def _storify_html(folder: Path) -> Path:
    items = []
    for i, payload in enumerate(payloads()):
        text, attr = html.escape(payload, quote=False), html.escape(payload, quote=True)
        items.append(
            f'<li data-type="text" data-id="h{i}"><p>{text}</p></li>\n'
            f'<li data-type="quote" data-source="twitter" data-id="q{i}" data-username="{attr}"'
            f' data-permalink="https://twitter.com/h{i}/status/{930000000000000000 + i}"'
            f' data-timestamp="1773309600"><img class="avatar" src="{html.escape(hostile_url(i))}">'
            f'<span class="name">{text}</span><div class="text">{text} #{TAG}</div></li>\n'
            f'<li data-type="link" data-id="l{i}" data-permalink="{html.escape(hostile_url(i))}">'
            f'<h3 class="title">{text}</h3><p class="text">{text}</p></li>\n'
        )  # fmt: skip
    page = (f"<html><head><title>{html.escape(payloads()[7])}</title></head><body>"
            f"<h1>Storify</h1><ol>{''.join(items)}</ol></body></html>")  # fmt: skip
    path = folder / "storify.html"
    path.write_text(page, encoding="utf-8")
    return path


def _twitter_archive(folder: Path) -> Path:
    data = folder / "twitter" / "data"
    data.mkdir(parents=True)
    account = [{"account": {"accountId": "9999", "username": "archived",
                            "accountDisplayName": payloads()[8]}}]  # fmt: skip
    (data / "account.js").write_text("window.YTD.account.part0 = " + json.dumps(account),
                                     encoding="utf-8")  # fmt: skip
    tweets = [{"tweet": {"id_str": str(940000000000000000 + i), "created_at": WHEN_V1,
                         "full_text": f"{payload} #{TAG}", "entities": {}}}
              for i, payload in enumerate(payloads())]  # fmt: skip
    (data / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(tweets),
                                    encoding="utf-8")  # fmt: skip
    return data / "tweets.js"


def _outbox(folder: Path) -> Path:
    archive = folder / "mastodon"
    archive.mkdir()
    actor = "https://kea.example/users/hostile"
    (archive / "actor.json").write_text(json.dumps({
        "id": actor, "preferredUsername": "hostile", "name": payloads()[3],
        "summary": payloads()[4], "icon": {"url": hostile_url(3)}}), encoding="utf-8")  # fmt: skip
    items = [{"type": "Create", "object": {
        "id": f"{actor}/statuses/{i}", "type": "Note", "published": WHEN_ISO, "url": hostile_url(i),
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "content": payload,
        "summary": payload if i % 7 == 0 else None,
        "tag": [{"type": "Hashtag", "name": f"#{TAG}"}],
        "attachment": [{"mediaType": "image/png", "url": hostile_url(i), "name": payload}],
    }} for i, payload in enumerate(payloads())]  # fmt: skip
    path = archive / "outbox.json"
    path.write_text(
        json.dumps({"type": "OrderedCollection", "orderedItems": items}), encoding="utf-8"
    )
    return path


def _car(folder: Path) -> Path:
    repo = Repo("did:plc:hostilehostilehostile")
    profile = repo.put({"$type": "app.bsky.actor.profile", "displayName": payloads()[5],
                        "description": payloads()[6]})  # fmt: skip
    entries = [("app.bsky.actor.profile/self", profile)]
    for i, payload in enumerate(payloads()):
        record = post_record(f"{payload} #{TAG}", WHEN_ISO,
                             embed={"images": [{"alt": payload, "image": {"ref": None}}]})  # fmt: skip
        entries.append((f"app.bsky.feed.post/3h{i:06d}", repo.put(record)))
    return repo.write(folder / "hostile.car", repo.node(entries))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("import-hostile")
    config = write_config(folder, f"sqlite:///{folder / 'h.db'}",
                          f"[archive]\nsite_dir = '{folder / 'site'}'\n")  # fmt: skip
    assert run_cli("init", config=config).exit_code == 0
    assert run_cli("event", "add", "hostile", "--title", "Hostile", "--hashtag", TAG, "--start",
                   "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC",
                   config=config).exit_code == 0  # fmt: skip
    files = [_twarc(folder), _tags(folder), _storify(folder), _storify_html(folder),
             _twitter_archive(folder), _outbox(folder), _car(folder)]  # fmt: skip
    imported = run_cli("import", "hostile", *map(str, files), "--no-media", "--wide", config=config)
    assert imported.exit_code == 0, imported.output
    for name in ("hostile.jsonl", "hostile.csv", "storify.json", "storify.html", "tweets.js",
                 "outbox.json", "hostile.car"):  # fmt: skip
        row = next(line for line in imported.output.splitlines() if line.startswith(name + " "))
        assert int(row.split()[3]) >= len(payloads()) * 0.95, imported.output  # imported
    assert run_cli("consent", "imported", "hostile", "all", config=config).exit_code == 0
    exported = run_cli("export", "hostile", "--no-search", config=config)
    assert exported.exit_code == 0, exported.output
    return folder / "site"


def test_no_imported_page_holds_anything_executable_or_remote(site: Path) -> None:
    story = (site / "hostile" / "story-hostile-story.html").read_text(encoding="utf-8")
    assert story.count("onerror") > 100  # the payloads are on the pages, as text
    told = (site / "hostile" / "story-storify.html").read_text(encoding="utf-8")
    assert told.count("onerror") > 100
    assert audit_site(site) == []


@pytest.mark.browser
def test_no_imported_payload_runs_or_reaches_out_in_chromium(site: Path) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in (site / "hostile").glob("*.html"))
    people = [p for p in pages if re.search(r"/person-", p)]
    chosen = [p for p in pages if p not in people] + people[::25]
    with serve(site) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        for relative in chosen:
            page.goto(origin + relative, wait_until="load")
            page.evaluate(
                "() => { for (const d of document.querySelectorAll('details')) d.open = true; }"
            )
            watch.collect(page, "/" + relative)
    watch.assert_clean()
