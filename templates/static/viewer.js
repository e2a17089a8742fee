// Enhancement only: without it, an image's link opens the image file itself, which
// the browser shows at its own size. With it, the image opens in a dialog over the
// page: Escape, the Close button or a click beside the image closes it, and the
// focus goes back to the image that opened it (the browser's <dialog> does both).
"use strict";
let viewer = null;

function makeViewer() {
  const dialog = document.createElement("dialog");
  dialog.className = "viewer";
  dialog.setAttribute("aria-label", "Enlarged image");
  const close = document.createElement("button");
  close.type = "button";
  close.className = "viewer-close";
  close.textContent = "Close";
  close.addEventListener("click", () => dialog.close());
  const figure = document.createElement("figure");
  figure.append(document.createElement("img"), document.createElement("figcaption"));
  dialog.append(close, figure);
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // the backdrop, beside the image
  });
  dialog.addEventListener("close", () => {
    dialog.querySelector("img").removeAttribute("src");
  });
  document.body.append(dialog);
  return dialog;
}

document.addEventListener("click", (event) => {
  // A blurred image's click reveals it first (reveal.js); a modified click opens a tab.
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target instanceof Element ? event.target.closest("a.zoom") : null;
  if (!link || typeof HTMLDialogElement !== "function") return;
  event.preventDefault();
  viewer = viewer || makeViewer();
  const thumbnail = link.querySelector("img");
  const text = thumbnail ? thumbnail.alt : "";
  const image = viewer.querySelector("img");
  image.alt = text;
  image.src = link.href;
  viewer.querySelector("figcaption").textContent = text; // text, never markup
  viewer.showModal();
});
