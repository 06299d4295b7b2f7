// Progressive enhancement: after a refused form, move focus to the list of problems so that
// keyboard and screen-reader users land on it.
document.addEventListener("DOMContentLoaded", function () {
  var errors = document.getElementById("mwf-errors");
  if (errors) { errors.focus(); }
});
