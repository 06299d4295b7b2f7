/* Studio editor of the reflection exercise: prompts with their indicators; saved through studio_submit. */
function MiiwrapReflectionStudio(runtime, element) {
  var root = MiiwrapCommon.rootOf(element);
  var editor = root.querySelector(".mwf-reflection-studio");
  var list = editor.querySelector(".mwf-prompts");
  var status = editor.querySelector(".mwf-status-message");
  var msg = function (name) { return editor.getAttribute("data-msg-" + name) || ""; };

  function nextId() {
    var used = {}, n = 1;
    list.querySelectorAll(".mwf-prompt-editor").forEach(function (p) { used[p.getAttribute("data-prompt-id")] = true; });
    while (used["p" + n]) { n += 1; }
    return "p" + n;
  }
  function bindRemove(fieldset) {
    fieldset.querySelector(".mwf-remove-prompt").addEventListener("click", function () { fieldset.remove(); });
  }
  list.querySelectorAll(".mwf-prompt-editor").forEach(bindRemove);

  editor.querySelector(".mwf-add-prompt").addEventListener("click", function () {
    var template = list.querySelector(".mwf-prompt-editor");
    if (!template) { MiiwrapCommon.announce(status, msg("reload"), true); return; }
    var copy = template.cloneNode(true), id = nextId();
    copy.setAttribute("data-prompt-id", id);
    var text = copy.querySelector(".mwf-prompt-text-input");
    text.value = "";
    text.id = text.id.replace(/prompt-[^-]+$/, "prompt-" + id);
    copy.querySelector("label[for]").setAttribute("for", text.id);
    copy.querySelectorAll(".mwf-prompt-indicator").forEach(function (box) { box.checked = false; });
    list.appendChild(copy);
    bindRemove(copy);
    text.focus();
  });

  editor.querySelector(".mwf-save").addEventListener("click", function () {
    var data = {
      display_name: editor.querySelector(".mwf-field-title").value,
      min_length: parseInt(editor.querySelector(".mwf-field-min").value, 10),
      self_rating: editor.querySelector(".mwf-field-self").checked,
      prompts: []
    };
    if (isNaN(data.min_length)) { data.min_length = -1; }
    list.querySelectorAll(".mwf-prompt-editor").forEach(function (p) {
      data.prompts.push({
        id: p.getAttribute("data-prompt-id"),
        text: p.querySelector(".mwf-prompt-text-input").value,
        indicators: Array.prototype.map.call(p.querySelectorAll(".mwf-prompt-indicator:checked"),
                                             function (box) { return box.value; })
      });
    });
    if (runtime.notify) { runtime.notify("save", {state: "start"}); }
    MiiwrapCommon.post(runtime, element, "studio_submit", data).then(function (result) {
      if (result.ok) {
        MiiwrapCommon.announce(status, msg("saved"), false);
        if (runtime.notify) { runtime.notify("save", {state: "end"}); }
      } else {
        MiiwrapCommon.announce(status, MiiwrapCommon.errorText(result.body), true);
        if (runtime.notify) { runtime.notify("error", {title: msg("not-saved"), message: MiiwrapCommon.errorText(result.body)}); }
      }
    });
  });
  editor.querySelector(".mwf-cancel").addEventListener("click", function () {
    if (runtime.notify) { runtime.notify("cancel", {}); }
  });
}
