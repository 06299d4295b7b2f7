// The policy editor: choosing another instrument shows its scores at once (the button that does it
// without JavaScript is then not needed), and a preview brings its panel into view.
(function () {
  "use strict";
  document.querySelectorAll("[data-mwf-refresh]").forEach(function (select) {
    var button = select.parentElement.querySelector("[data-mwf-refresh-button]");
    if (!button) { return; }
    button.hidden = true;
    select.addEventListener("change", function () { button.click(); });
  });
  var preview = document.getElementById("mwf-preview-heading");
  if (preview && !document.getElementById("mwf-errors")) { preview.focus(); }
})();
