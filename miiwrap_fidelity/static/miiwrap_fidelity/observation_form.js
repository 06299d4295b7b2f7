// The coach's observation form, progressively enhanced (the server checks everything again):
// - an error's link focuses the indicator or field it names (opening the form, or the note, if folded);
// - the client-identifier check runs while typing, with the patterns the server uses (sent in
//   the page as JSON), naming the field; submit stays possible once the coach confirms;
// - the form autosaves to localStorage (per course, learner and draft), encrypted with a key of
//   this sign-in's session, and, when the connection is lost, keeps a submit and sends it when the
//   browser is back online.
(function () {
  "use strict";
  var PENDING = ":pending", SENT = "mwf-autosave-sent";

  // Every folded part around ``element`` opened (the form, an indicator's note).
  function unfold(element) {
    for (var d = element.closest("details"); d; d = d.parentElement.closest("details")) { d.open = true; }
  }

  function focusTarget(id) {
    var target = document.getElementById(id);
    if (!target) { return; }
    unfold(target);
    var input = target.matches("fieldset") ? target.querySelector("input, select, textarea") : target;
    (input || target).focus();
    target.scrollIntoView({block: "center"});
  }

  function enhanceErrorLinks() {
    document.querySelectorAll(".mwf-error-link").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        focusTarget(link.dataset.target);
      });
    });
  }

  function fieldLabel(field) {
    var label = field.id ? document.querySelector("label[for='" + field.id + "']") : null;
    var fieldset = field.closest("fieldset");
    var legend = fieldset ? fieldset.querySelector("legend") : null;
    var text = label ? label.textContent.trim() : field.name;
    return legend ? legend.textContent.trim() + " (" + text + ")" : text;
  }

  // The server's privacy.normalized: NFKC, invisible characters out, look-alike letters folded.
  function normalizedFor(spec) {
    return function (text) {
      return Array.prototype.map.call(text.normalize("NFKC"), function (ch) {
        return spec.invisible.indexOf(ch) >= 0 ? "" : (spec.fold[ch] || ch);
      }).join("");
    };
  }

  function privacyCheck(form) {
    var source = document.getElementById("mwf-privacy-patterns");
    var panel = document.getElementById("mwf-privacy-check");
    if (!source || !panel) { return function () { return true; }; }
    var patterns = JSON.parse(source.textContent).map(function (p) {
      return {kind: p.kind, message: p.message, regex: new RegExp(p.source, p.flags + "u")};
    });
    var spec = document.getElementById("mwf-privacy-normalization");
    var normalized = normalizedFor((spec && JSON.parse(spec.textContent)) || {invisible: "", fold: {}});
    var confirm = document.getElementById("mwf-privacy-confirm");
    var summary = document.getElementById("mwf-privacy-summary");
    var summaryText = summary.textContent;
    function check(field) {
      var note = document.getElementById(field.id + "-privacy");
      var text = normalized(field.value);  // once per check, not once per pattern
      var found = patterns.filter(function (p) { return p.regex.test(text); });
      if (!found.length) {
        if (note) { note.remove(); }
        field.removeAttribute("aria-describedby");
        return false;
      }
      if (!note) {
        note = document.createElement("p");
        note.id = field.id + "-privacy";
        note.className = "mwf-field-warning";
        field.insertAdjacentElement("afterend", note);
        field.setAttribute("aria-describedby", note.id);
      }
      note.textContent = found.map(function (p) { return p.message; })
        .filter(function (message, index, all) { return all.indexOf(message) === index; }).join(" ");
      return true;
    }
    function checkAll() {
      var flagged = [];
      form.querySelectorAll("textarea").forEach(function (field) { if (check(field)) { flagged.push(field); } });
      panel.hidden = flagged.length === 0 && !panel.dataset.server;
      summary.textContent = summaryText + (flagged.length ? " " + flagged.map(fieldLabel).join("; ") : "");
      return flagged;
    }
    if (!panel.hidden) { panel.dataset.server = "1"; }
    form.addEventListener("input", function (event) { if (event.target.matches("textarea")) { checkAll(); } });
    form.addEventListener("mwf-restored", checkAll);  // a restored draft is checked as it is shown
    checkAll();
    // Before a submit: flagged text needs an edit or the confirmation (the server refuses it too).
    return function (submitter) {
      if (!submitter || submitter.value !== "submit") { return true; }
      var flagged = checkAll();
      if (flagged.length && !confirm.checked) {
        panel.hidden = false;
        unfold(flagged[0]);
        flagged[0].focus();
        return false;
      }
      return true;
    };
  }

  // Drafts belong to one person in one sign-in ("mwf-draft:<owner>:..."). Anything else found here
  // (another person's draft, an earlier sign-in's, the old unowned keys) is removed, never restored
  // and never sent: a shared computer keeps no one's notes for the next person. True if some was.
  function discardOthers(owner) {
    var mine = "mwf-draft:" + owner + ":", found = false;
    Object.keys(localStorage).forEach(function (name) {
      if (name.indexOf("mwf-draft:") === 0 && name.indexOf(mine) !== 0) {
        localStorage.removeItem(name);
        found = true;
      }
    });
    return found;
  }

  function fromBase64(text) {
    return Uint8Array.from(atob(text), function (ch) { return ch.charCodeAt(0); });
  }
  function toBase64(bytes) {
    return btoa(String.fromCharCode.apply(null, new Uint8Array(bytes)));
  }

  // Drafts are stored sealed (AES-GCM) with the key of this sign-in, derived on the server from the
  // session (served in data-autosave-secret; these pages are never cached): after signing out no
  // one can read a draft left in this browser. Without Web Crypto (a page not served over HTTPS)
  // nothing is kept in the browser at all.
  function draftSeal(secret) {
    if (!secret || !window.crypto || !window.crypto.subtle) { return null; }
    var key = window.crypto.subtle.importKey("raw", fromBase64(secret), "AES-GCM", false, ["encrypt", "decrypt"]);
    return {
      seal: function (values) {
        var iv = window.crypto.getRandomValues(new Uint8Array(12));
        var plain = new TextEncoder().encode(JSON.stringify(values));
        return key.then(function (k) { return window.crypto.subtle.encrypt({name: "AES-GCM", iv: iv}, k, plain); })
          .then(function (sealed) { return JSON.stringify({iv: toBase64(iv), sealed: toBase64(sealed)}); });
      },
      open: function (stored) {
        var box = JSON.parse(stored);
        return key.then(function (k) {
          return window.crypto.subtle.decrypt({name: "AES-GCM", iv: fromBase64(box.iv)}, k, fromBase64(box.sealed));
        }).then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
      }
    };
  }

  // Every draft kept in this browser is removed (there is no key to seal one with). True if some was.
  function discardAll() {
    return discardOthers("\u0000");  // no owner's drafts start with this: all go
  }

  function autosave(form, allowSubmit) {
    var key = form.dataset.autosaveKey;
    var state = document.getElementById("mwf-autosave-state");
    var messages = JSON.parse(document.getElementById("mwf-autosave-messages").textContent);
    var box = draftSeal(form.dataset.autosaveSecret);
    if (!window.localStorage) { return false; }
    function discarded() {
      state.textContent = messages.discarded;
      form.closest("details").open = true;  // where the notice can be read
    }
    // Without a key to seal with, nothing is kept here, and no one's earlier draft is left behind.
    if (box && key ? discardOthers(form.dataset.autosaveOwner) : discardAll()) { discarded(); }
    if (!key || !box) { return false; }
    function fields() {
      // The submission token goes with the draft: a queued submit sent twice is still one record.
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.name && el.name !== "csrfmiddlewaretoken" && el.type !== "submit" &&
          (el.type !== "hidden" || el.name === "submission_token");
      });
    }
    function snapshot() {
      var values = {};
      fields().forEach(function (el) {
        if (el.type === "radio") { if (el.checked) { values[el.name] = el.value; } }
        else if (el.type === "checkbox") { values[el.name] = el.checked; }
        else { values[el.name] = el.value; }
      });
      return values;
    }
    function restore(values) {
      fields().forEach(function (el) {
        if (!(el.name in values)) { return; }
        if (el.type === "radio") { el.checked = values[el.name] === el.value; }
        else if (el.type === "checkbox") { el.checked = values[el.name] === true; }
        else { el.value = values[el.name]; }
      });
    }
    function show(text) { state.textContent = text; }
    // Sealing is asynchronous: only the newest snapshot is written, whatever order they finish in.
    var written = 0;
    function keep(then) {
      var mine = ++written;
      return box.seal(snapshot()).then(function (sealed) {
        if (mine === written) { localStorage.setItem(key, sealed); }
        if (then) { then(); }
      });
    }
    // What was posted, with its submission token: the browser's copy is kept until the server says
    // it recorded that very post.
    function markSent() {
      var token = form.querySelector("input[name='submission_token']");
      sessionStorage.setItem(SENT, JSON.stringify({key: key, token: token ? token.value : ""}));
    }
    function send(action) {
      var button = form.querySelector("button[value='" + action + "']");
      markSent();
      form.requestSubmit(button);
    }

    // The server confirms the post it recorded (submitted, or saved as a draft on the server, which
    // then opens under its own key) by its token: only then is the browser's copy done. After an
    // error page, an overloaded server's answer or a lost connection the draft stays.
    var sent = null;
    try { sent = JSON.parse(sessionStorage.getItem(SENT) || "null"); } catch (error) { sent = null; }
    sessionStorage.removeItem(SENT);
    if (sent && sent.key && sent.token && sent.token === form.dataset.confirmedToken) {
      localStorage.removeItem(sent.key);
      localStorage.removeItem(sent.key + PENDING);
    }
    var saved = localStorage.getItem(key);
    var opened = Promise.resolve();
    if (saved && !document.getElementById("mwf-errors")) {
      opened = box.open(saved).then(function (values) {
        restore(values);
        form.closest("details").open = true;
        show(messages.restored);
        form.dispatchEvent(new CustomEvent("mwf-restored"));
      }, function () {  // sealed in another sign-in (or damaged): unreadable, so gone
        localStorage.removeItem(key);
        localStorage.removeItem(key + PENDING);
        discarded();
      });
    }
    form.addEventListener("input", function () { keep(function () { show(messages.saved); }); });
    form.addEventListener("change", function () { keep(); });
    form.addEventListener("submit", function (event) {
      var action = event.submitter ? event.submitter.value : "draft";
      if (!allowSubmit(event.submitter)) { event.preventDefault(); return; }
      if (!navigator.onLine) {
        event.preventDefault();
        keep(function () { localStorage.setItem(key + PENDING, action); show(messages.offline); });
        return;
      }
      markSent();
    });
    function flush() {
      var pending = localStorage.getItem(key + PENDING);
      if (pending && navigator.onLine) {
        localStorage.removeItem(key + PENDING);
        show(messages.sending);
        send(pending);
      }
    }
    window.addEventListener("online", flush);
    opened.then(function () {
      if (localStorage.getItem(key + PENDING)) {
        if (navigator.onLine) { flush(); } else { show(messages.offline); }
      }
    });
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceErrorLinks();
    var form = document.querySelector(".mwf-observation-form");
    if (!form) { return; }
    var allowSubmit = privacyCheck(form);
    if (!document.getElementById("mwf-autosave-messages") || !autosave(form, allowSubmit)) {
      form.addEventListener("submit", function (event) {
        if (!allowSubmit(event.submitter)) { event.preventDefault(); }
      });
    }
  });
}());
