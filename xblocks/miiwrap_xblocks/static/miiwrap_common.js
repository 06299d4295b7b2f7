/* Shared by the miiwrap blocks: JSON POSTs to handlers with the CSRF token, and announcements. */
window.MiiwrapCommon = window.MiiwrapCommon || (function () {
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function rootOf(element) { return element && element.jquery ? element[0] : element; }
  function post(runtime, element, handler, data) {
    return fetch(runtime.handlerUrl(rootOf(element), handler), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify(data || {})
    }).then(function (response) {
      return response.json().then(function (body) {
        return {ok: response.ok, status: response.status, body: body};
      }, function () {
        return {ok: false, status: response.status, body: {error: "HTTP " + response.status}};
      });
    }, function () {
      return {ok: false, status: 0, body: {error: "Network error"}};
    });
  }
  // ``labelOf(field)``: what the person sees for a per-item field (a prompt's text for answers.p1),
  // or nothing to keep the field's name; the other messages speak for themselves.
  function errorText(body, labelOf) {
    if (!body) { return ""; }
    if (body.error) { return [].concat(body.error).join(" "); }
    var parts = [];
    Object.keys(body.errors || {}).forEach(function (field) {
      var label = field.indexOf(".") > 0 ? (labelOf && labelOf(field)) || field : "";
      var prefix = label ? label + ": " : "";
      parts.push(prefix + [].concat(body.errors[field]).join(" "));
    });
    return parts.join("\n");
  }
  function announce(region, text, isError) {
    region.textContent = text;
    region.classList.toggle("mwf-error", !!isError);
    region.focus();
  }
  return {post: post, errorText: errorText, announce: announce, rootOf: rootOf};
}());
