// Search with Pagefind. Results are built with DOM methods and text only: nothing
// from the index is ever parsed as live HTML into the page.
"use strict";
(() => {
  const form = document.getElementById("search-form");
  if (!form) return;
  const input = document.getElementById("search-input");
  const status = document.getElementById("search-status");
  const list = document.getElementById("search-results");
  const serverNote = document.getElementById("search-needs-server");
  const dayFilter = document.getElementById("search-day");
  const platformFilter = document.getElementById("search-platform");
  const personFilter = document.getElementById("search-person");
  const root = new URL(form.dataset.root || "./", document.baseURI);
  const event = form.dataset.event;
  const bundles = new URL(form.dataset.pagefind, document.baseURI); // …/pagefind/pagefind.js
  const options = { baseUrl: root.pathname, excerptLength: 24 };
  let pagefind = null;
  let listing = null;
  const places = new Map(); // a day's first page -> Map(post id -> later page)

  async function fetchJson(relative) {
    const response = await fetch(new URL(relative, bundles));
    if (!response.ok) throw new Error(`${relative}: ${response.status}`);
    return response.json();
  }

  // The runtime bundle, then each group of the event merged into it.
  async function load() {
    if (pagefind) return pagefind;
    listing = await fetchJson(`${event}/groups.json`);
    const api = await import(bundles.href);
    await api.options(options);
    for (const group of listing.groups) {
      await api.mergeIndex(new URL(`${event}/${group}/`, bundles).pathname, options);
    }
    pagefind = api;
    return pagefind;
  }

  // Records link to "<day's first page>#<post id>-<anchor>": the id finds a post on a
  // later page of its day in the day's places (pages shift as posts are added, the
  // index does not), and the link keeps the anchor only.
  const RECORD = /^#(\d+)-(p-[0-9a-f]+-by)(?:-([a-z]+))?$/; // id, anchor, platform
  async function place(url) {
    const target = new URL(url, document.baseURI);
    const found = RECORD.exec(target.hash);
    if (!found) return null;
    const entry = target.pathname.split("/").pop();
    target.hash = found[2];
    if (listing.paged.includes(entry)) {
      if (!places.has(entry)) {
        const pages = await fetchJson(`${event}/places/${entry}.json`);
        const map = new Map();
        for (const [page, ids] of Object.entries(pages)) {
          for (const id of ids.split(" ")) map.set(id, page);
        }
        places.set(entry, map);
      }
      const page = places.get(entry).get(found[1]);
      if (page) target.pathname = target.pathname.slice(0, -entry.length) + page;
    }
    return target.pathname + target.hash;
  }

  // An excerpt holds text and <mark>: copy exactly that, as text nodes. Pagefind starts
  // it with the record's heading (who and when), which the link shows already: the
  // excerpt keeps the post's own words.
  function excerpt(html, title) {
    const out = document.createElement("p");
    const doc = new DOMParser().parseFromString(html, "text/html");
    const whole = doc.body.textContent || "";
    let skip = whole.startsWith(title) ? title.length : 0;
    for (const node of doc.body.childNodes) {
      let text = node.textContent || "";
      if (skip) {
        const cut = Math.min(skip, text.length);
        text = text.slice(cut);
        skip -= cut;
        if (!skip) text = text.replace(/^[.\s]+/, "");
        if (!text) continue;
      }
      if (node.nodeType === Node.ELEMENT_NODE && node.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = text;
        out.append(mark);
      } else {
        out.append(document.createTextNode(text));
      }
    }
    return out;
  }

  function item(title, url, text) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = url;
    link.textContent = title;
    li.append(link, excerpt(text, title));
    return li;
  }

  // Results are shown SHOWN at a time ("Show more results" for the next ones): a
  // common word can match hundreds of posts, and laying them all out at once took a
  // browser 22 s. Each day's page of the index is loaded only when its turn comes.
  const SHOWN = 50;

  // Filters (day, platform, person) apply to each post: a page of the index holds a
  // day's posts of every platform and person.
  function filters() {
    return {
      day: dayFilter ? dayFilter.value : "",
      platform: platformFilter ? platformFilter.value : "",
      person: personFilter ? normal(personFilter.value).split(" ").filter(Boolean) : [],
    };
  }
  function wanted(sub, chosen) {
    const target = new URL(sub.url, document.baseURI);
    const found = RECORD.exec(target.hash);
    if (chosen.day && target.pathname.split("/").pop() !== chosen.day) return false;
    if (chosen.platform && (!found || found[3] !== chosen.platform)) return false;
    const who = normal(sub.title);
    return chosen.person.every((word) => who.includes(word));
  }

  // Pagefind ranks pages (a day's posts); within them, and among the pages loaded so
  // far, posts holding the whole phrase come first, then those holding every word
  // (a word's stem: "sustains" finds "sustain"), then the rest, each in Pagefind's order.
  function normal(text) {
    return text.toLocaleLowerCase().replace(/[^\p{L}\p{N}#@]+/gu, " ").trim();
  }
  function stem(word) {
    return word.length <= 4 ? word : word.slice(0, Math.max(4, word.length - 3));
  }
  function ranked(page, terms) {
    const subs = page.sub_results || [];
    if (terms.length < 2) return subs;
    const words = (page.content || "").split(/\s+/);
    const starts = (page.anchors || []).map((a) => a.location).sort((a, b) => a - b);
    const phrase = ` ${terms.join(" ")} `;
    for (const sub of subs) {
      const start = sub.anchor ? sub.anchor.location : 0;
      const end = starts.find((at) => at > start) ?? words.length;
      const text = ` ${normal(words.slice(start, end).join(" "))} `;
      sub.rank = text.includes(phrase) ? 2 : terms.every((t) => text.includes(` ${stem(t)}`)) ? 1 : 0;
    }
    return subs;
  }
  const more = document.getElementById("search-more");
  let state = null;

  async function showMore(current) {
    let added = 0;
    let first = null;
    while (added < SHOWN) {
      if (!current.subs.length) {
        if (current.next >= current.results.length) break;
        const batch = current.results.slice(current.next, current.next + 5);
        current.next += batch.length;
        const pages = await Promise.all(batch.map((r) => r.data()));
        if (current !== state) return;
        for (const page of pages) current.subs.push(...ranked(page, current.terms));
        current.subs.sort((a, b) => (b.rank || 0) - (a.rank || 0)); // stable: Pagefind's order within
        continue;
      }
      const sub = current.subs.shift();
      if (!wanted(sub, current.chosen)) continue;
      const url = await place(sub.url);
      if (current !== state) return;
      if (!url) continue;
      const entry = item(sub.title, url, sub.excerpt);
      list.append(entry);
      first = first || entry;
      added += 1;
      current.shown += 1;
    }
    const left = current.subs.length > 0 || current.next < current.results.length;
    if (more) more.hidden = !left;
    const n = current.shown;
    status.textContent = n
      ? `${n} result${n === 1 ? "" : "s"}${left ? " shown; more below" : ""}`
      : "Nothing found.";
    return first;
  }

  let runs = 0; // typing starts searches that may end out of order: the last one wins
  async function run(query) {
    const ticket = ++runs;
    state = null;
    list.replaceChildren();
    if (more) more.hidden = true;
    if (!query.trim()) {
      status.textContent = "";
      return;
    }
    status.textContent = "Searching…";
    let api;
    try {
      api = await load();
    } catch (error) {
      status.textContent = "Search is not available here (it needs the archive served by a web server).";
      if (serverNote) serverNote.hidden = false;
      return;
    }
    const search = await api.search(query, { filters: { event } });
    if (ticket !== runs) return;
    const terms = normal(query).split(" ").filter(Boolean);
    const current = { results: search.results, next: 0, subs: [], shown: 0, terms, chosen: filters() };
    state = current;
    await showMore(current);
  }

  if (more) {
    more.addEventListener("click", async () => {
      if (!state) return;
      const first = await showMore(state);
      const link = first && first.querySelector("a");
      if (link) link.focus(); // keyboard and screen-reader users land on the new results
    });
  }

  function remember(query) {
    const url = new URL(location.href);
    url.searchParams.set("q", query);
    const fields = [["day", dayFilter], ["platform", platformFilter], ["person", personFilter]];
    for (const [name, field] of fields) {
      if (field && field.value) url.searchParams.set(name, field.value);
      else url.searchParams.delete(name);
    }
    history.replaceState(null, "", url);
  }
  // A filter changed: the same search again, narrowed.
  function again() {
    remember(input.value);
    run(input.value);
  }
  for (const field of [dayFilter, platformFilter]) {
    if (field) field.addEventListener("change", again);
  }
  if (personFilter) {
    personFilter.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(again, 300);
    });
  }
  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    clearTimeout(typing);
    remember(input.value);
    run(input.value);
  });
  // Search as you type: once the typing pauses, and from two characters on.
  let typing = null;
  input.addEventListener("input", () => {
    clearTimeout(typing);
    const query = input.value;
    if (query.trim().length === 1) return;
    typing = setTimeout(() => {
      remember(query);
      run(query);
    }, 300);
  });
  // Opened from files, search cannot run: say so where it matters, not everywhere.
  if (location.protocol === "file:" && serverNote) serverNote.hidden = false;
  const asked = new URLSearchParams(location.search);
  if (dayFilter) dayFilter.value = asked.get("day") || "";
  if (platformFilter) platformFilter.value = asked.get("platform") || "";
  if (personFilter) personFilter.value = asked.get("person") || "";
  const initial = asked.get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
})();
