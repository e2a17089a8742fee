// The story editor's drag and drop (SortableJS, vendored from npm). Every change is
// still the form post a keyboard user makes: a drag fills in the hidden form
// #drag-form and submits it, and the page comes back with the change announced.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const story = document.querySelector("ol.items");
  const results = document.querySelector("section.browser ol.posts");
  const form = document.getElementById("drag-form");
  if (!story || !form || typeof Sortable === "undefined") return;

  const send = (fields) => {
    for (const [name, value] of Object.entries(fields)) {
      form.elements[name].value = value;
    }
    form.submit();
  };

  Sortable.create(story, {
    group: { name: "story", pull: false, put: ["posts"] },
    handle: ".drag",
    forceFallback: true, // mouse and touch alike, with the same events
    animation: 120,
    onUpdate: (event) => {
      send({ action: "move", index: event.oldIndex, to: event.newIndex, address: "" });
    },
    onAdd: (event) => {
      send({ action: "add_post", index: "", to: event.newIndex,
             address: event.item.dataset.address });
    },
  });
  if (results) {
    Sortable.create(results, {
      group: { name: "posts", pull: "clone", put: false },
      sort: false,
      handle: ".drag",
      forceFallback: true,
    });
  }
});
