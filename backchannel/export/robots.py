"""What the site tells crawlers and browsers: robots.txt, the robots meta, the CSP.

By default the archive asks every crawler, AI crawlers by name included, to stay away
(``robots.txt``) and every page says ``noindex, noarchive``. ``[export]
allow_indexing = true`` opens both. The Content Security Policy allows only the site
itself; ``'wasm-unsafe-eval'`` lets Pagefind's WebAssembly search run.
"""

from __future__ import annotations

# Crawlers that gather text for AI models or AI answers, named so that a robots.txt
# parser that ignores the "*" group (some do) still finds itself turned away.
AI_CRAWLERS = (
    "GPTBot", "ChatGPT-User", "OAI-SearchBot", "ClaudeBot", "Claude-Web", "Claude-User",
    "Claude-SearchBot", "anthropic-ai", "CCBot", "Google-Extended", "GoogleOther",
    "Applebot-Extended", "PerplexityBot", "Perplexity-User", "Bytespider", "Amazonbot",
    "FacebookBot", "meta-externalagent", "Meta-ExternalFetcher", "cohere-ai",
    "cohere-training-data-crawler", "Diffbot", "ImagesiftBot", "Omgilibot", "Omgili",
    "Timpibot", "YouBot", "DuckAssistBot", "MistralAI-User", "AI2Bot", "Ai2Bot-Dolma",
    "PetalBot", "Scrapy", "img2dataset", "webzio-extended", "iaskspider", "Kangaroo Bot",
)  # fmt: skip

CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self'; media-src 'self'; connect-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'self'"
)

NOINDEX = "noindex, noarchive, nosnippet, noimageindex, noai, noimageai"
INDEX = "index, follow"


def robots_meta(allow_indexing: bool) -> str:
    return INDEX if allow_indexing else NOINDEX


def robots_txt(allow_indexing: bool) -> str:
    if allow_indexing:
        return "# The organiser allows indexing of this archive.\nUser-agent: *\nAllow: /\n"
    lines = [
        "# A conference backchannel archive. Its authors did not all agree to be indexed:",
        "# please do not crawl, index, archive or train on it.",
        "",
    ]
    for agent in AI_CRAWLERS:
        lines += [f"User-agent: {agent}", "Disallow: /", ""]
    lines += ["User-agent: *", "Disallow: /", ""]
    return "\n".join(lines)
