"""Word lists for the generated Mastodon half of the demo event.

Every person, organisation and web site here is invented. Links stay on reserved
domains (example.org, example.net, *.example) so the demo never needs the internet.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Āwhina", "Mere", "Tama", "Hēmi", "Rāwiri", "Ngaio", "Aroha", "Wiremu", "Kiri", "Mōhio",
    "Priya", "Tomasz", "Leilani", "Farah", "Ingrid", "Sione", "Mele", "Oskar", "Zainab", "Yusuf",
    "Hana", "Lucía", "Björn", "Amara", "Teuila", "Mateo", "Nadia", "Ravi", "Selin", "Grace",
    "Ewan", "Fern", "Jonah", "Marlo", "Quinn", "Rosa", "Saoirse", "Tavita", "Uma", "Vika",
)  # fmt: skip
SURNAMES = (
    "Harrowfield", "Te Awa-Loomis", "Kettleby", "Marchetti-Rua", "Pennywhistle", "Okonkwo-Hale",
    "Drummond-Tau", "Fairweather", "Lindqvist", "Ngātoro-Bell", "Quennell", "Ravensworth",
    "Sandoval-Pike", "Thistlewood", "Underhay", "Vasquez-Orr", "Whitcombe", "Yarrowby",
    "Ashgrove", "Brackenridge", "Coldstream", "Dunmore", "Elmsworth", "Foxhollow",
)  # fmt: skip
ROLES = (
    "Social worker", "PhD candidate", "Lecturer in social work", "Practice supervisor",
    "Community researcher", "Child protection practitioner", "Kaupapa Māori researcher",
    "Aged-care social worker", "Policy analyst", "Student social worker", "Youth worker",
)  # fmt: skip
PLACES = ("Ōtautahi", "Te Whanganui-a-Tara", "Tāmaki Makaurau", "Ōtepoti", "Kirikiriroa", "Nelson")

OPENERS = (
    "Great point from the stage:", "Really valuable session.", "Notes from the room:",
    "This landed hard:", "Quote of the morning:", "Important reminder:", "Loving this:",
    "Thinking about this a lot:", "Strong start.", "So much to sit with here.",
    "Full room for this one.", "Scribbling furiously:",
)  # fmt: skip
IDEAS = (
    "relationships are the intervention, not the paperwork",
    "risk tools cannot replace professional judgement",
    "whānau know their own children best",
    "supervision is a space for reflection, not compliance",
    "we need to ask who benefits from the data we collect",
    "co-design means sharing power, not just consulting",
    "burnout is a structural problem, not a personal failing",
    "older people deserve to be heard in their own care plans",
    "algorithms encode yesterday's decisions into tomorrow's practice",
    "research with communities, not on them",
    "practice wisdom counts as evidence too",
    "consent is ongoing, not a box ticked once",
    "the ethics of posting about clients online are not optional",
    "funding cycles shape which questions get asked",
    "small caseloads are a safety measure",
)  # fmt: skip
CLOSERS = (
    "", "", "", "Thoughts?", "More of this please.", "Slides to follow, apparently.",
    "Taking this back to my team.", "🙌", "👏👏", "💡", "Kia kaha.", "(paraphrasing)",
)  # fmt: skip
TE_REO = (
    "Kia ora koutou! Tēnā koutou katoa.",
    "Ngā mihi nui ki ngā kaikōrero.",
    "He aha te mea nui o te ao? He tāngata, he tāngata, he tāngata.",
    "Mātauranga Māori is knowledge, not a garnish.",
    "Whakawhanaungatanga first, then the research questions.",
    "Manaakitanga in practice looks like this.",
    "Ka pai tēnei kōrero mō te whānau.",
    "Nō Ōtautahi ahau, ka nui te mihi.",
)  # fmt: skip
RTL = (
    ("ar", "شكراً جزيلاً للمتحدثين، نقاش مهم جداً عن العمل الاجتماعي."),
    ("ar", "البحث مع المجتمعات وليس عنها."),
    ("he", "הרצאה חשובה מאוד על עבודה סוציאלית וקהילה."),
    ("he", "תודה רבה למארגנים!"),
)
ZWJ = ("👨‍👩‍👧‍👧", "🧑‍🤝‍🧑", "👩🏽‍🏫", "🏳️‍🌈", "👩🏾‍⚕️", "🧑🏻‍💻")
CW_TOPICS = (
    "child abuse (research findings)", "suicide mention", "family violence",
    "long thread", "conference food opinions", "discussion of self-harm",
)  # fmt: skip
LINKS = (
    ("https://journal.example/articles/2026/relational-practice-data", "Relational practice in a data-hungry age", "Journal of Imaginary Social Work", "An open-access article on practice and data."),
    ("https://example.org/reports/whanau-led-decision-making-review", "Whānau-led decision making: a ten-year review", "Example Research Trust", "A review of family group practice over ten years."),
    ("https://swrs26.example/programme", "SWRS26 programme", "SWRS26", "Sessions, rooms and speakers."),
    ("https://example.net/blog/supervision-that-sustains", "Supervision that sustains", "Practice Notes", "A blog post about reflective supervision."),
    ("https://example.org/datasets/ageing-care-community", "Ageing, care and community: open data", "Example Data Commons", "Survey data released under an open licence."),
    ("https://ethics.example/guidance/social-media-in-practice", "Social media in practice: guidance", "Ethics Board (fictional)", "Guidance on posting about practice online."),
)  # fmt: skip
ALT_TEXTS = (
    "A slide with the words 'Relationships first' in large white letters.",
    "A conference hall with rows of chairs, half full, seen from the back.",
    "A whiteboard covered in sticky notes grouped by colour.",
    "A bar chart comparing caseload sizes across regions.",
    "A cup of coffee next to a printed programme.",
    "Ko te reo Māori tēnei: he pikitia o te wharenui.",
)  # fmt: skip
POLL_OPTIONS = (
    (("Yes", 14), ("No", 3), ("Depends on the team", 9)),
    (("Coffee", 21), ("Tea", 12), ("Kawakawa tea", 6)),
    (("Morning keynote", 8), ("Afternoon panel", 11)),
)
EDIT_SUFFIXES = (
    " (edit: fixed the speaker's name)",
    " (edit: typo)",
    " Edit: link to slides added above.",
)
