"""The demo conference as seen from a Misskey server (``misskey.example``): a few
attendees who post there, in MFM, through the sessions of both days.

What it shows the demo: notes read through Misskey's own API, an image with its alt
text, custom emoji, a reply, a note shown to anyone but kept off public timelines
(``home``: never archived), a renote (a boost: never archived), an author who asked
search engines to leave them alone (``noindex``: left out), and a remote author from
one of the Mastodon sources (one person, met on two servers).
"""

from __future__ import annotations

import random
from datetime import timedelta

from backchannel.sandbox import conference
from backchannel.sandbox.misskey_world import File, MisskeyWorld

HOST = "misskey.example"
_LINES = (
    "Listening to {title} #swrs26 :kea:",
    "**Key point** from {title}: practice is relational before it is procedural #swrs26",
    "Slides from {title} are worth a second look #swrs26 #socialworkresearch",
    "A question from the floor in {title} changed the room $[x2 🌱] #swrs26",
)


def build_demo_misskey(seed: int = conference.SEED) -> MisskeyWorld:
    """The same notes every time (ids, texts, times)."""
    rng = random.Random(seed + 7)
    world = MisskeyWorld(HOST, node="d3m0")
    people = [
        world.add_user("aroha", name="Aroha :kea:", description="Social worker, Ōtautahi"),
        world.add_user("sione", name="Sione"),
        world.add_user("mere", name="Mere", is_bot=False),
    ]
    shy = world.add_user("kahu", name="Kahu", noindex=True)
    visitor = world.add_user("mele_dunmore", "kea.example", name="Mele Dunmore")
    first = None
    for number, session in enumerate(conference.SESSIONS):
        for n, line in enumerate(_LINES[: 2 + number % 3]):
            author = people[(number + n) % len(people)]
            when = session.starts_at + timedelta(minutes=10 + 17 * n + rng.randrange(6))
            files = []
            if n == 2:
                files = [File(f"demo-{number}", f"slide-{number}.png",
                              comment=f"A slide from {session.title}")]  # fmt: skip
            note = world.add_note(author, line.format(title=session.title), created_at=when,
                                  files=files)  # fmt: skip
            first = first or note
    assert first is not None
    opening = conference.SESSIONS[0].starts_at
    world.add_note(people[1], "@aroha@misskey.example agreed, and the Q&A too #swrs26",
                   created_at=opening + timedelta(minutes=55), reply_id=first.id)  # fmt: skip
    world.add_note(people[2], "Notes for my team only #swrs26", visibility="home",
                   created_at=opening + timedelta(minutes=40))  # fmt: skip
    world.add_note(people[0], None, renote_id=first.id, created_at=opening + timedelta(hours=1))
    world.add_note(shy, "Please do not archive me #swrs26", created_at=opening + timedelta(hours=2))
    world.add_note(visitor, "Also posting here for the Misskey folks #swrs26",
                   created_at=opening + timedelta(hours=3))  # fmt: skip
    return world
