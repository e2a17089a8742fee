"""Words for the Bluesky demo event: fictional people and what they post.

Every name is invented (combinations of common given names and surnames); handles
live under reserved ``.example`` domains so none can belong to a real account.
"""

from __future__ import annotations

GIVEN = (
    "Aroha", "Mere", "Tama", "Hine", "Wiremu", "Ngaio", "Rāwiri", "Ana", "Priya", "Samir",
    "Leila", "Noa", "Yael", "Fatima", "Omar", "Siosaia", "Mele", "Grace", "Oliver", "Isla",
    "Mateo", "Wei", "Hana", "Liam", "Zoe", "Kiri", "Manaia", "Tui", "Ruth", "Elif", "Jonas",
    "Freya", "Inés", "Ravi", "Amara", "Niamh", "Callum", "Maeve", "Tāne", "Losa",
)  # fmt: skip
FAMILY = (
    "Te Rangi", "Harrow", "Penhallow", "Whitcombe", "Okonkwo-Reid", "Lindqvist", "Marsh",
    "Tapsell", "Fonoti", "Kowalczyk", "Brennan", "Haddad", "Nakamura", "Ferreira", "Moana",
    "Ashgrove", "Delacroix", "Kaur", "Vaipulu", "Strand", "Ortega", "Ruamoko", "Byrne",
    "Halvorsen", "Mahuika", "Castellano", "Iwikau", "Rowntree",
)  # fmt: skip
DOMAINS = ("bsky.example", "bsky.example", "bsky.example", "kaimahi.example.org", "lab.example.net")

OPENERS = (
    "Notes from", "Loving", "Packed room for", "Key takeaway from", "Really thoughtful discussion in",
    "Challenging questions in", "Still buzzing after", "Quiet, powerful moment in",
    "Taking notes furiously in", "Standing room only for",
)  # fmt: skip
TAKEAWAYS = (
    "relationships are the intervention.",
    "data should serve whānau, not the other way round.",
    "supervision is a workload issue, not a luxury.",
    "consent is ongoing, not a checkbox.",
    "we need to fund the boring infrastructure.",
    "lived experience is expertise.",
    "algorithms inherit our blind spots.",
    "ageing in place needs community, not just services.",
    "practice wisdom deserves the same rigour as trials.",
    "the quietest voices in the room often hold the data we miss.",
    "burnout is an organisational outcome, not a personal failing.",
    "evaluation should ask whose outcomes count.",
)
REO = (
    "Kia ora koutou katoa! Tēnā koutou, tēnā koutou, tēnā tātou katoa.",
    "Ngā mihi nui ki ngā kaikōrero o te rā.",
    "He aha te mea nui o te ao? He tangata, he tangata, he tangata.",
    "Mā whero, mā pango ka oti ai te mahi.",
    "Ko te whānau te pūtake o te mahi tiaki.",
    "Nō reira, kia kaha tātou, kia māia, kia manawanui.",
)
EMOJI = ("👨‍👩‍👧‍👧", "🧑🏽‍🏫", "👩🏾‍💻", "🏳️‍🌈", "🤝", "✨", "☕", "🙌🏽", "💡", "📚", "👏🏼", "🫶")
RTL = (
    "العمل الاجتماعي يبدأ بالإصغاء",  # Arabic: social work begins with listening
    "עבודה סוציאלית היא עבודה של קשר",  # Hebrew: social work is the work of connection
)
REPLIES = (
    "Yes! This was my favourite bit.",
    "Do you know if the slides will be shared?",
    "Agree, and it connects to this morning's panel.",
    "Kia ora for sharing, couldn't get into that room.",
    "Interesting, but I wonder how it scales outside the cities.",
    "This matches what we found in our regional study.",
    "Such an important point 🙌🏽",
    "Ka pai! Thanks for the notes.",
)
ALTS = (
    "Slide with the title of the talk and the speaker's name.",
    "Bar chart comparing caseloads across five regions; the rural bars are tallest.",
    "Photo of a full lecture theatre from the back row.",
    "Slide quoting a whānau member: “they listened before they wrote anything down”.",
    "Whiteboard covered in sticky notes sorted into three columns.",
    "Coffee cup with the symposium logo, harbour in the background.",
)
PAPERS = (
    ("relational-practice", "Relational practice when every contact is recorded",
     "A qualitative study of frontline workers' notes and what they leave out."),
    ("whanau-led-decisions", "Whānau-led decision making: a ten-year follow-up",
     "Outcomes for children and families after family group conferences, 2016–2026."),
    ("supervision-sustains", "Supervision that sustains: a national survey",
     "How often social workers get reflective supervision, and what happens when they don't."),
    ("algorithmic-risk", "Risk scores in child protection: an audit",
     "What a predictive model learned from thirty years of referrals."),
    ("ageing-community", "Ageing, care and community",
     "Mapping informal care networks in three towns."),
)  # fmt: skip
BEFORE = (
    "Counting down to #{tag} next week! Who else is going?",
    "Finished my slides for #{tag} at last ☕",
    "Flights booked for #{tag}. See you in the harbour city!",
)
AFTER = (
    "Still thinking about everything I heard at #{tag}.",
    "Finally wrote up my notes from #{tag}, a long read.",
    "The #{tag} recordings are up, worth your time.",
)
