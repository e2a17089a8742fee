// Enhancement only: without it the people page is the same list, busiest first.
// Adds a filter by name or handle and a choice of order (most posts, or by name).
"use strict";
(() => {
  const list = document.querySelector("ol.people");
  if (!list) return;
  const items = Array.from(list.children);
  const form = document.createElement("form");
  form.className = "people-tools";
  form.setAttribute("role", "search");
  form.setAttribute("aria-label", "Find a person");
  form.innerHTML =
    '<label for="people-filter">Find by name or handle</label> ' +
    '<input id="people-filter" type="search" autocomplete="off"> ' +
    '<label for="people-order">Order</label> ' +
    '<select id="people-order"><option value="posts">most posts first</option>' +
    '<option value="name">by name</option></select> ' +
    '<span id="people-shown" role="status"></span>';
  list.before(form);
  const filter = form.querySelector("#people-filter");
  const order = form.querySelector("#people-order");
  const shown = form.querySelector("#people-shown");
  const byName = new Intl.Collator(document.documentElement.lang || undefined, { sensitivity: "base" });

  function update() {
    const words = filter.value.trim().toLocaleLowerCase().split(/\s+/).filter(Boolean);
    let count = 0;
    for (const item of items) {
      const text = (item.dataset.name + " " + item.dataset.handle).toLocaleLowerCase();
      const match = words.every((word) => text.includes(word));
      item.hidden = !match;
      if (match) count += 1;
    }
    const sorted = items.slice();
    if (order.value === "name") {
      sorted.sort((a, b) => byName.compare(a.dataset.name, b.dataset.name));
    }
    list.append(...sorted);
    shown.textContent = words.length ? `${count} of ${items.length} shown` : "";
  }
  form.addEventListener("submit", (event) => event.preventDefault());
  filter.addEventListener("input", update);
  order.addEventListener("change", update);
})();
