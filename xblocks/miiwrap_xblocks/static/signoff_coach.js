/* Coach view of the sign-off block: pick a learner, see their status and reflections, record an
   observation with the rubric, approve or revoke. The server re-checks the role on every call. */
function MiiwrapCoachSignOff(runtime, element) {
  var root = MiiwrapCommon.rootOf(element);
  var block = root.querySelector(".mwf-coach");
  if (!block) { return; }
  var picker = block.querySelector(".mwf-learner-picker");
  var panel = block.querySelector(".mwf-learner-panel");
  var summary = block.querySelector(".mwf-learner-summary");
  var form = block.querySelector(".mwf-observation-form");
  var status = block.querySelector(".mwf-status-message");
  var msg = function (name) { return block.getAttribute("data-msg-" + name) || ""; };
  var draft = null;  // {id, revision} of the draft being edited, so saving again updates it
  // The rubric's coding mode (timer, tallies, live summary scores: coding_mode.js, loaded with the
  // rubric); enhancing twice is harmless, so a block loaded after the page is enhanced here too.
  if (window.MiiwrapCodingMode) { window.MiiwrapCodingMode.enhanceAll(block); }

  // While typing: warn beside free text that may identify a client, with the patterns the server
  // checks on submit (privacy.client_patterns, served in data-privacy-patterns: one source).
  var privacyPatterns = JSON.parse(block.getAttribute("data-privacy-patterns") || "[]").map(function (p) {
    return {message: p.message, regex: new RegExp(p.source, p.flags + "u")};
  });
  // The server's privacy.normalized: NFKC, invisible characters out, look-alike letters folded.
  function normalizedFor(spec) {
    return function (text) {
      return Array.prototype.map.call(text.normalize("NFKC"), function (ch) {
        return spec.invisible.indexOf(ch) >= 0 ? "" : (spec.fold[ch] || ch);
      }).join("");
    };
  }
  var normalized = normalizedFor(JSON.parse(block.getAttribute("data-privacy-normalization") ||
                                             '{"invisible": "", "fold": {}}'));
  function privacyCheck(field) {
    var note = field.nextElementSibling && field.nextElementSibling.matches(".mwf-field-warning") ?
      field.nextElementSibling : null;
    var text = normalized(field.value);  // once per check, not once per pattern
    var found = privacyPatterns.filter(function (p) { return p.regex.test(text); });
    if (!found.length) {
      if (note) { note.remove(); }
      field.removeAttribute("aria-describedby");
      return;
    }
    if (!note) {
      note = el("p", "", "mwf-field-warning");
      note.id = (field.id || "mwf-" + Math.random().toString(36).slice(2)) + "-privacy";
      field.insertAdjacentElement("afterend", note);
      field.setAttribute("aria-describedby", note.id);
    }
    note.textContent = found.map(function (p) { return p.message; }).join(" ");
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }
  function list(items, render) {
    var ul = el("ul");
    if (!items.length) { ul.appendChild(el("li", msg("none"))); }
    items.forEach(function (item) { ul.appendChild(render(item)); });
    return ul;
  }

  function showActions(actions) {  // offered as the learner's state allows; the handler decides again
    var whyNot = block.querySelector(".mwf-why-not");
    block.querySelector('button[data-decide="approve"]').hidden = !actions.approve;
    block.querySelector('button[data-decide="revoke"]').hidden = !actions.revoke;
    var level = block.querySelector(".mwf-level-select");
    if (level && actions.approve) { level.value = actions.level; }
    whyNot.textContent = actions.why_not || "";
    whyNot.hidden = !actions.why_not;
  }

  function show(state) {
    summary.textContent = "";
    if (state.actions) { showActions(state.actions); }
    var s = state.status;
    // The learner by full name, the username beside it as the pages show people (alone without a name).
    var heading = el("h4", state.learner.name || state.learner.username);
    if (state.learner.name && state.learner.name !== state.learner.username) {
      heading.appendChild(document.createTextNode(" "));
      heading.appendChild(el("small", state.learner.username, "mwf-hint"));
    }
    heading.appendChild(document.createTextNode(": " + s.state_label));
    summary.appendChild(heading);
    if (s.evidence) {
      summary.appendChild(el("p", msg("valid-until") + ": " + (s.evidence.expires_at || "—")));
      summary.appendChild(el("h5", msg("rests-on")));
      summary.appendChild(list(s.evidence.observations, function (o) {
        return el("li", o.practice_date + " · " + o.setting + " · " + o.percent + "% · " + o.observer);
      }));
      summary.appendChild(el("p", msg("recertification") + ": " + s.qualifying + " / " + s.required));
    } else {
      summary.appendChild(el("p", msg("qualifying") + ": " + s.qualifying + " / " + s.required));
    }
    summary.appendChild(el("h5", msg("remains")));
    summary.appendChild(list(s.reasons, function (reason) { return el("li", reason); }));
    summary.appendChild(el("h5", msg("observed")));
    summary.appendChild(list(state.observations, function (o) {
      return el("li", o.practice_date + " · " + o.setting + " · " + o.status +
                (o.percent === null ? "" : " · " + (o.percent_label || o.percent + "%")) + " · " + o.observer);
    }));
    var history = state.history;
    if (history && history.pages > 1) {  // the observations come a page at a time
      summary.appendChild(el("p", msg("history-range").replace("{first}", history.first)
        .replace("{last}", history.last).replace("{count}", history.count), "mwf-history-range"));
      [["newer", history.page - 1, history.page > 1], ["older", history.page + 1, history.page < history.pages]]
        .forEach(function (step) {
          if (!step[2]) { return; }
          var button = el("button", msg(step[0]), "mwf-button mwf-secondary mwf-history-" + step[0]);
          button.type = "button";
          button.addEventListener("click", function () { call("learner_state", {history_page: step[1]}); });
          summary.appendChild(button);
        });
    }
    summary.appendChild(el("h5", msg("reflections")));
    summary.appendChild(list(state.reflections, function (r) {
      var li = el("li");
      li.appendChild(el("strong", r.title));
      r.answers.forEach(function (a) { li.appendChild(el("p", a.prompt + " — " + a.answer)); });
      (r.self_ratings || []).forEach(function (x) {
        li.appendChild(el("p", msg("self-rating") + " " + x.indicator + ": " + x.level, "mwf-self-rating"));
      });
      r.comments.forEach(function (c) { li.appendChild(el("p", c.author + ": " + c.text, "mwf-comment")); });
      var id = block.id + "-comment-" + r.id;
      var label = el("label", msg("comment-label"));
      label.setAttribute("for", id);
      var box = el("textarea");
      box.id = id; box.rows = 2; box.maxLength = 2000;
      var confirmLabel = el("label", " " + msg("privacy-confirm"), "mwf-inline");
      var confirm = document.createElement("input");
      confirm.type = "checkbox";
      confirmLabel.insertBefore(confirm, confirmLabel.firstChild);
      var button = el("button", msg("comment"), "mwf-button mwf-secondary");
      button.type = "button";
      button.addEventListener("click", function () {
        call("comment_reflection", {reflection_id: r.id, text: box.value, privacy_confirmed: confirm.checked});
      });
      li.appendChild(label); li.appendChild(box); li.appendChild(confirmLabel); li.appendChild(button);
      return li;
    }));
    summary.appendChild(el("h5", msg("signoffs")));
    summary.appendChild(list(state.signoffs, function (x) {
      return el("li", x.created_at.slice(0, 10) + ": " + x.label + (x.reason ? " — " + x.reason : ""));
    }));
    panel.hidden = false;
    // The picker's label follows the learner's state (not "Ready for sign-off" after approval).
    var option = picker.options[picker.selectedIndex];
    if (option && option.value === String(state.learner.id)) {
      option.textContent = (option.getAttribute("data-name") || state.learner.name || state.learner.username) +
        " (" + s.state_label + ")";
    }
  }

  // Errors about one indicator are named by its display name (the rubric's legend), not its key,
  // and the first such indicator takes focus.
  function namedErrors(body) {
    if (!body || !body.errors) { return MiiwrapCommon.errorText(body); }
    var first = null;
    var lines = Object.keys(body.errors).map(function (field) {
      var match = /^ratings\.([^.]+)/.exec(field);
      var target = match ? form.querySelector("#mwf-indicator-" + CSS.escape(match[1])) :
        field === "overall_note" ? form.querySelector(".mwf-overall-note") : null;
      var label = !target ? null : match ? target.querySelector("legend") :
        form.querySelector("label[for='" + target.id + "']");
      if (target && !first) { first = target; }
      return (label ? label.textContent.trim() + ": " : "") + [].concat(body.errors[field]).join(" ");
    });
    if (first) {
      var input = first.matches("fieldset") ? first.querySelector("input, textarea") : first;
      window.setTimeout(function () { input.focus(); }, 0);
    }
    return lines.join("\n");
  }

  // One submission, one record: the same content sent again while its first sending has no answer
  // yet (a double click, a retry after a lost answer) carries the same submission token, and the
  // server answers with the first record (api.submission_keys). An answer ends the submission: the
  // same content later (approving again after a revocation) is a new one. Reads need no token.
  var tokens = {};
  function tokenFor(content) {
    if (!tokens[content]) {
      tokens[content] = window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID()
        : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 14);
    }
    return tokens[content];
  }

  function call(handler, data) {
    if (!picker.value) { MiiwrapCommon.announce(status, msg("choose"), true); return Promise.resolve(null); }
    data.learner_id = parseInt(picker.value, 10);
    var content = handler === "learner_state" ? null : handler + ":" + JSON.stringify(data);
    if (content) { data.submission_token = tokenFor(content); }
    return MiiwrapCommon.post(runtime, element, handler, data).then(function (result) {
      // Kept only for a retry of a sending that got no answer (network error, service unavailable).
      if (content && result.status !== 0 && result.status !== 503) { delete tokens[content]; }
      if (!result.ok) {
        MiiwrapCommon.announce(status, namedErrors(result.body), true);
        return null;
      }
      show(result.body.state || result.body);
      if (result.body.message) {
        var warnings = (result.body.warnings || []).join(" ");
        MiiwrapCommon.announce(status, result.body.message + (warnings ? " " + warnings : ""), false);
      }
      return result.body;
    });
  }

  picker.addEventListener("change", function () {
    resetForm();
    if (!picker.value) { panel.hidden = true; return; }
    status.textContent = msg("loading");
    call("learner_state", {}).then(function () { if (status.textContent === msg("loading")) { status.textContent = ""; } });
  });

  // Several instruments: the chosen one's rubric is shown and rated; a saved draft keeps its own.
  var instrument = form.querySelector(".mwf-instrument");
  function showInstrument() {
    form.querySelectorAll(".mwf-rubric").forEach(function (rubric) {
      rubric.hidden = rubric.getAttribute("data-instrument") !== instrument.value;
    });
  }
  if (instrument) { instrument.addEventListener("change", showInstrument); }
  function resetForm() {
    form.reset();
    draft = null;
    if (instrument) { instrument.disabled = false; showInstrument(); }
  }

  function ratings() {
    var result = {};
    form.querySelectorAll(".mwf-indicator").forEach(function (fieldset) {
      if (fieldset.closest(".mwf-rubric[hidden]")) { return; }
      var key = fieldset.getAttribute("data-indicator");
      if (!key) { return; }
      // Levels and scale points are radio buttons; a count is one number field (same name).
      var tally = fieldset.querySelector("input[type=number][name='rating-" + key + "']");
      var checked = fieldset.querySelector("input[type=radio]:checked");
      var level = tally ? tally.value.trim() : (checked ? checked.value : "");
      var strength = fieldset.querySelector("[name='strength-" + key + "']").value;
      var nextStep = fieldset.querySelector("[name='next_step-" + key + "']").value;
      if (level || strength || nextStep) {
        result[key] = {level: level, strength: strength, next_step: nextStep};
      }
    });
    return result;
  }

  form.addEventListener("input", function (event) { if (event.target.matches("textarea")) { privacyCheck(event.target); } });
  // The sign-off reason is read by the learner too: the same warning while typing.
  block.querySelector(".mwf-reason").addEventListener("input", function (event) { privacyCheck(event.target); });
  form.addEventListener("reset", function () {
    form.querySelectorAll(".mwf-field-warning").forEach(function (note) { note.remove(); });
  });
  form.querySelectorAll("button[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      var submit = button.getAttribute("data-action") === "submit";
      call("record_observation", {
        submit: submit,
        observation_id: draft ? draft.id : null,
        revision: draft ? draft.revision : null,
        practice_date: form.querySelector(".mwf-practice-date").value,
        setting: form.querySelector(".mwf-setting").value,
        overall_note: form.querySelector(".mwf-overall-note").value,
        ratings: ratings(),
        instrument_version: instrument ? instrument.value : null,
        privacy_confirmed: form.querySelector(".mwf-privacy-confirmed").checked
      }).then(function (body) {
        if (!body) { return; }
        if (submit) { resetForm(); } else { draft = body.observation; if (instrument) { instrument.disabled = true; } }
      });
    });
  });

  // Courses with more learners than the picker holds: narrow it by the beginning of a name or username.
  var search = block.querySelector(".mwf-learner-search");
  if (search) {
    var hint = block.querySelector(".mwf-search-hint");
    var pending = null;
    search.addEventListener("input", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        var asked = search.value;
        MiiwrapCommon.post(runtime, element, "find_learners", {search: asked}).then(function (result) {
          if (search.value !== asked) { return; }  // a newer search is on its way
          if (!result.ok) { hint.textContent = MiiwrapCommon.errorText(result.body); return; }
          while (picker.options.length > 1) { picker.remove(1); }
          result.body.learners.forEach(function (learner) {  // named by the server, as the first list
            var option = new Option(learner.label, learner.id);
            option.setAttribute("data-name", learner.shown);
            picker.appendChild(option);
          });
          hint.textContent = search.getAttribute("data-msg-showing")
            .replace("{shown}", result.body.learners.length).replace("{total}", result.body.total);
        });
      }, 300);
    });
  }

  block.querySelectorAll("button[data-decide]").forEach(function (button) {
    button.addEventListener("click", function () {
      var level = block.querySelector(".mwf-level-select");
      call("decide", {
        action: button.getAttribute("data-decide"),
        reason: block.querySelector(".mwf-reason").value,
        privacy_confirmed: block.querySelector(".mwf-reason-confirmed").checked,
        level: level ? level.value : "coach"
      }).then(function (body) {
        if (body) { block.querySelector(".mwf-reason").value = ""; block.querySelector(".mwf-reason-confirmed").checked = false; }
      });
    });
  });
}
