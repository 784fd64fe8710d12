// Admin review page: F, R and M choose "confirmed fake", "confirmed real" and "needs more
// review"; the Save button then takes the focus, so Enter records the decision. Keys typed
// into a text field are left alone.
(function () {
  "use strict";
  var KEYS = { f: "confirmed_fake", r: "confirmed_real", m: "needs_more_review" };
  document.addEventListener("keydown", function (event) {
    var select = document.querySelector("select[name=decision]");
    var target = event.target;
    if (!select || event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    var value = KEYS[event.key.toLowerCase()];
    if (!value) return;
    event.preventDefault();
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    var save = document.querySelector("input[name=_save]");
    if (save) save.focus();
  });
})();
