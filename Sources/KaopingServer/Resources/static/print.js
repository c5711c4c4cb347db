// Print buttons appear only where script runs; without it the page's hint says to use the
// browser's own print command, which does the same.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
