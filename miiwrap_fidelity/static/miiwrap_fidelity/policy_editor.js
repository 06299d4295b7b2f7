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
  // After an editing button the page is drawn again: the keyboard goes back to the set it changed.
  var form = document.querySelector("form[data-mwf-focus]");
  var target = form && (document.getElementById(form.getAttribute("data-mwf-focus")) ||
                        document.getElementsByName(form.getAttribute("data-mwf-focus"))[0]);
  if (target) {
    if (target.tagName === "FIELDSET") { target.setAttribute("tabindex", "-1"); }
    target.focus();
    target.scrollIntoView({block: "start"});
  }
  var preview = document.getElementById("mwf-preview-heading");
  if (!target && preview && !document.getElementById("mwf-errors")) { preview.focus(); }
})();
