// Enhancement only: everything works without it. Clicking a blurred image reveals
// the sensitive media of that post (the "show" summary does the same without script).
"use strict";
document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return;
  const box = target.closest(".sensitive");
  if (!box || target.closest("summary")) return;
  const reveal = box.querySelector(":scope > details.reveal");
  if (reveal && !reveal.open) {
    reveal.open = true;
    event.preventDefault();
  }
});
document.addEventListener("toggle", (event) => {
  const reveal = event.target;
  if (reveal instanceof HTMLDetailsElement && reveal.classList.contains("reveal")) {
    reveal.parentElement.classList.toggle("revealed", reveal.open);
  }
}, true);
