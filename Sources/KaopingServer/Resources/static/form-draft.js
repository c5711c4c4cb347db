// Keeps an unsent form's answers in this browser, so that a closed tab or a dropped
// connection loses nothing. The form works fully without this script.
(function () {
  "use strict";
  var storage;
  try { storage = window.localStorage; } catch (e) { return; }
  if (!storage) return;
  var prefix = "kaoping-draft:";

  var done = document.querySelector("[data-clear-draft]");
  if (done) { storage.removeItem(prefix + done.getAttribute("data-clear-draft")); return; }

  var form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  var key = prefix + form.getAttribute("data-draft-key");

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name.charAt(0) !== "_";
    });
  }

  function save() {
    var draft = {};
    fields().forEach(function (el) {
      if (el.type === "radio") { if (el.checked) draft[el.name] = el.value; }
      else if (el.value !== "") { draft[el.name] = el.value; }
    });
    try { storage.setItem(key, JSON.stringify(draft)); } catch (e) { /* storage full: ignore */ }
  }

  // A page the server filled (after a validation error) already shows the answers.
  if (form.getAttribute("data-fresh") === "true") {
    var draft = null;
    try { draft = JSON.parse(storage.getItem(key) || "null"); } catch (e) { draft = null; }
    if (draft) {
      fields().forEach(function (el) {
        if (!(el.name in draft)) return;
        if (el.type === "radio") el.checked = (el.value === draft[el.name]);
        else el.value = draft[el.name];
      });
    }
  }
  form.addEventListener("change", save);
  form.addEventListener("input", save);
})();
