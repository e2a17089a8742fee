// Search with Pagefind. Results are built with DOM methods and text only: nothing
// from the index is ever parsed as live HTML into the page.
"use strict";
(() => {
  const form = document.getElementById("search-form");
  if (!form) return;
  const input = document.getElementById("search-input");
  const status = document.getElementById("search-status");
  const list = document.getElementById("search-results");
  const root = new URL(form.dataset.root || "./", document.baseURI);
  let pagefind = null;

  async function load() {
    if (pagefind) return pagefind;
    pagefind = await import(new URL(form.dataset.pagefind, document.baseURI).href);
    await pagefind.options({ baseUrl: root.pathname, excerptLength: 24 });
    return pagefind;
  }

  // An excerpt holds text and <mark>: copy exactly that, as text nodes.
  function excerpt(html) {
    const out = document.createElement("p");
    const doc = new DOMParser().parseFromString(html, "text/html");
    for (const node of doc.body.childNodes) {
      if (node.nodeType === Node.ELEMENT_NODE && node.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = node.textContent;
        out.append(mark);
      } else {
        out.append(document.createTextNode(node.textContent || ""));
      }
    }
    return out;
  }

  function item(title, url, text) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = url;
    link.textContent = title;
    li.append(link, excerpt(text));
    return li;
  }

  async function run(query) {
    list.replaceChildren();
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
      return;
    }
    const search = await api.search(query, { filters: { event: form.dataset.event } });
    const pages = await Promise.all(search.results.slice(0, 20).map((r) => r.data()));
    let count = 0;
    for (const page of pages) {
      const subs = (page.sub_results || []).filter((s) => s.url.includes("#p-"));
      if (subs.length) {
        for (const sub of subs) {
          list.append(item(sub.title, sub.url, sub.excerpt));
          count += 1;
        }
      } else {
        list.append(item(page.meta.title || page.url, page.url, page.excerpt));
        count += 1;
      }
    }
    status.textContent = count ? `${count} result${count === 1 ? "" : "s"}` : "Nothing found.";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(location.href);
    url.searchParams.set("q", input.value);
    history.replaceState(null, "", url);
    run(input.value);
  });
  const initial = new URLSearchParams(location.search).get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
})();
