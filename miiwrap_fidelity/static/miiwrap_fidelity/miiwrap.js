// Progressive enhancement: after a refused form, move focus to the list of problems so that
// keyboard and screen-reader users land on it.
document.addEventListener("DOMContentLoaded", function () {
  var errors = document.getElementById("mwf-errors");
  if (errors) { errors.focus(); }
});

// A page reloaded by a choice (the observation form's "Record with:") puts focus on what was chosen,
// inside the form it opened, and scrolls the element it names (the form's heading) to the top. After
// "load": the browser's own move to the link's #fragment would take the focus away again.
window.addEventListener("load", function () {
  var chosen = document.querySelector("[data-mwf-focus-on-load]");
  if (!chosen || document.getElementById("mwf-errors")) { return; }
  var target = chosen.querySelector("[aria-current]") || chosen;
  target.setAttribute("tabindex", "-1");
  target.focus({preventScroll: true});
  (document.getElementById(chosen.getAttribute("data-mwf-focus-on-load")) || chosen).scrollIntoView({block: "start"});
});

// Progressive enhancement: while learners' status is being re-evaluated after a policy change,
// ask how far it has come every two seconds and update the message (a live region) and the bar.
document.addEventListener("DOMContentLoaded", function () {
  var panel = document.getElementById("mwf-reevaluation");
  if (!panel || (panel.dataset.state !== "waiting" && panel.dataset.state !== "running")) { return; }
  var message = document.getElementById("mwf-reevaluation-message");
  var bar = document.getElementById("mwf-reevaluation-bar");
  function poll() {
    fetch(panel.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { return; }
        message.textContent = progress.message;
        panel.dataset.state = progress.state;
        if (bar) { bar.value = progress.percent; bar.textContent = progress.percent + "%"; }
        if (progress.state === "waiting" || progress.state === "running") {
          window.setTimeout(poll, 2000);
        } else if (bar) {
          bar.remove();
        }
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  window.setTimeout(poll, 2000);
});
