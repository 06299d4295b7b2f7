/* Reflection exercise: save drafts, submit once, then show the answers read-only. */
function MiiwrapReflection(runtime, element) {
  var root = MiiwrapCommon.rootOf(element);
  var block = root.querySelector(".mwf-reflection");
  if (!block) { return; }
  var status = block.querySelector(".mwf-status-message");
  var minLength = parseInt(block.getAttribute("data-min-length"), 10) || 0;

  function collect() {
    var confirmed = block.querySelector(".mwf-privacy-confirmed");
    var data = {answers: {}, self_ratings: {}, privacy_confirmed: !!(confirmed && confirmed.checked)};
    block.querySelectorAll(".mwf-prompt").forEach(function (prompt) {
      var input = prompt.querySelector(".mwf-answer-input");
      if (input) { data.answers[prompt.getAttribute("data-prompt-id")] = input.value; }
    });
    block.querySelectorAll(".mwf-self-rating").forEach(function (select) {
      if (select.value) { data.self_ratings[select.getAttribute("data-indicator")] = select.value; }
    });
    return data;
  }

  // "answers.p1" in an error is the prompt the learner reads.
  function promptLabel(field) {
    var prompt = block.querySelector(".mwf-prompt[data-prompt-id='" + field.split(".")[1] + "']");
    var label = prompt && prompt.querySelector(".mwf-prompt-text");
    return label ? label.textContent.trim() : "";
  }

  function tooShort() {
    var inputs = block.querySelectorAll(".mwf-answer-input");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].value.trim().length < Math.max(minLength, 1)) { return inputs[i]; }
    }
    return null;
  }

  function lock() {
    block.querySelectorAll(".mwf-answer-input").forEach(function (input) {
      var shown = document.createElement("div");
      shown.className = "mwf-answer";
      shown.id = input.id;
      shown.textContent = input.value;
      input.parentNode.replaceChild(shown, input);
    });
    block.querySelectorAll(".mwf-hint").forEach(function (hint) { hint.remove(); });
    block.querySelectorAll(".mwf-self-rating").forEach(function (select) { select.disabled = true; });
    var confirm = block.querySelector(".mwf-privacy-confirmed");
    if (confirm) { confirm.closest("label").remove(); }
    var actions = block.querySelector(".mwf-actions");
    if (actions) { actions.remove(); }
    if (confirmFinal) { confirmFinal.remove(); }
    // The top line says what is now true: submitted, no longer a draft.
    var line = block.querySelector(".mwf-state-line");
    if (line) {
      line.textContent = "";
      var strong = document.createElement("strong");
      strong.textContent = block.getAttribute("data-msg-submitted");
      line.appendChild(strong);
      line.appendChild(document.createTextNode(": " + block.getAttribute("data-msg-submitted-line")));
    }
  }

  function send(action, button) {
    button.disabled = true;
    MiiwrapCommon.post(runtime, element, action, collect()).then(function (result) {
      button.disabled = false;
      if (result.ok) {
        if (action === "submit_reflection") { lock(); }
        MiiwrapCommon.announce(status, result.body.message, false);
      } else {
        MiiwrapCommon.announce(status, MiiwrapCommon.errorText(result.body, promptLabel), true);
      }
    });
  }

  // Submitting is final: one more, explicit step, never a single click (issue 26).
  var confirmFinal = block.querySelector(".mwf-confirm-final");
  var submitButton = block.querySelector("button[data-action='submit_reflection']");
  if (confirmFinal) {
    confirmFinal.querySelector("[data-confirm='yes']").addEventListener("click", function () {
      confirmFinal.hidden = true;
      send("submit_reflection", submitButton);
    });
    confirmFinal.querySelector("[data-confirm='no']").addEventListener("click", function () {
      confirmFinal.hidden = true;
      submitButton.focus();
    });
  }

  block.querySelectorAll("button[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      var action = button.getAttribute("data-action");
      if (action === "submit_reflection") {
        var short = tooShort();
        if (short) {
          MiiwrapCommon.announce(status, block.querySelector("#" + short.id + "-hint").textContent, true);
          short.focus();
          return;
        }
        if (confirmFinal) {
          confirmFinal.hidden = false;
          confirmFinal.querySelector("[data-confirm='yes']").focus();
          return;
        }
      }
      send(action, button);
    });
  });
}
