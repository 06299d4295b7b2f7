// Coding mode (issue 26), on top of the rubric form (_rubric_form.html), which works without it:
// - a session timer (start / pause / reset, mm:ss; role=timer, so it is never read out by itself);
// - large - / + tally buttons beside each behaviour count;
// - how many indicators are rated, and the summary scores as they stand, computed with the formulas
//   the page sends (the instrument's summary definitions). The rules below mirror the server's
//   rating_scales (whole_number, numeric_value, summary_value, proficiency); the server computes what
//   is stored, and tests/test_coding_mode.py runs both on the same inputs to hold them to agreement.
// Used by the coach's learner page and the sign-off block (which may show several rubrics).
(function (root) {
  "use strict";
  var COUNT_CEILING = 100000, DECIMALS = 6;
  var OVER_ONE_LIST = ["mean", "sum"];

  // --- the rules (rating_scales.py) ------------------------------------------------------------

  function wholeNumber(value) {
    if (typeof value === "boolean" || value === null || value === undefined) { return null; }
    if (typeof value === "number") { return Number.isInteger(value) ? value : null; }
    if (typeof value !== "string") { return null; }
    var text = value.trim();
    var digits = /^[+-]/.test(text) ? text.slice(1) : text;
    if (/^[0-9]{1,9}$/.test(digits)) { return parseInt(text, 10); }
    return null;
  }

  // The number a rating stands for: a scale's point (one of ``points``), a count's tally; else null.
  function numericValue(kind, points, max, key) {
    if ((kind !== "scale" && kind !== "count") || key === null || key === undefined || key === "") { return null; }
    if (kind === "count") {
      var tally = wholeNumber(key);
      var ceiling = max === null || max === undefined ? COUNT_CEILING : max;
      return tally === null || tally < 0 || tally > ceiling ? null : tally;
    }
    var point = wholeNumber(key);
    var canonical = point !== null ? String(point) : key;
    return points.indexOf(canonical) >= 0 ? parseInt(canonical, 10) : null;
  }

  function summaryInputs(summary) {
    if (OVER_ONE_LIST.indexOf(summary.op) >= 0) { return summary.of.slice(); }
    return summary.numerator.concat(summary.denominator.filter(function (k) { return summary.numerator.indexOf(k) < 0; }));
  }

  // Python's round(x, 6): the nearest, an exact tie to the even digit (toFixed gives exact decimals
  // for the magnitudes summaries take).
  function round6(x) {
    var exact = x.toFixed(30), dot = exact.indexOf(".");
    var kept = exact.slice(0, dot + 1 + DECIMALS);
    if (/^50*$/.test(exact.slice(dot + 1 + DECIMALS)) && parseInt(kept.slice(-1), 10) % 2 === 0) { return Number(kept); }
    return Number(x.toFixed(DECIMALS));
  }

  function sumOf(keys, values) {
    return keys.reduce(function (total, key) { return total + values[key]; }, 0);
  }

  function summaryValue(summary, values) {
    if (summaryInputs(summary).some(function (key) { return values[key] === null || values[key] === undefined; })) { return null; }
    var result;
    if (OVER_ONE_LIST.indexOf(summary.op) >= 0) {
      var total = sumOf(summary.of, values);
      result = summary.op === "mean" ? total / summary.of.length : total;
    } else {
      var numerator = sumOf(summary.numerator, values), denominator = sumOf(summary.denominator, values);
      if (denominator === 0) { return null; }
      result = summary.op === "percent" ? (100 * numerator) / denominator : numerator / denominator;
    }
    if (!isFinite(result)) { return null; }
    result = round6(result);
    return isFinite(result) ? result : null;
  }

  function summaryScores(summaries, values) {
    var scores = {};
    summaries.forEach(function (summary) {
      var result = summaryValue(summary, values);
      if (result !== null) { scores[summary.key] = result; }
    });
    return scores;
  }

  function proficiency(summary, score) {
    if (score === null || score === undefined) { return null; }
    var lowerIsBetter = summary.better === "lower", reached = null;
    (summary.levels || []).forEach(function (level) {
      if (lowerIsBetter ? score <= level.threshold : score >= level.threshold) { reached = level; }
    });
    return reached;
  }

  var rules = {wholeNumber: wholeNumber, numericValue: numericValue, summaryValue: summaryValue,
               summaryScores: summaryScores, proficiency: proficiency};
  if (typeof module !== "undefined" && module.exports) { module.exports = rules; return; }
  if (root.MiiwrapCodingMode) { return; }  // the sign-off block may include this once per rubric

  // --- the page ---------------------------------------------------------------------------------

  function rows(coding) { return coding.querySelectorAll("fieldset.mwf-indicator[data-indicator]"); }

  function ratingOf(row) {
    var number = row.querySelector("input[type=number]");
    if (number) { return number.value; }
    var checked = row.querySelector("input[type=radio]:checked");
    return checked ? checked.value : "";
  }

  function valuesOf(coding) {
    var values = {};
    rows(coding).forEach(function (row) {
      var kind = row.getAttribute("data-kind");
      var number = row.querySelector("input[type=number]");
      var points = Array.prototype.map.call(row.querySelectorAll("input[type=radio]"), function (r) { return r.value; });
      var max = number && number.max !== "" ? parseInt(number.max, 10) : null;
      values[row.getAttribute("data-indicator")] = numericValue(kind, points, max, ratingOf(row));
    });
    return values;
  }

  function formatted(value) {
    var lang = document.documentElement.lang || undefined;
    var whole = Math.round(value * 100) / 100;  // as the pages show a score: up to two decimals
    var digits = Number.isInteger(whole) ? 0 : 2;
    try {
      return whole.toLocaleString(lang, {minimumFractionDigits: digits, maximumFractionDigits: digits});
    } catch (error) {
      return whole.toFixed(digits);
    }
  }

  function refresh(coding) {
    var rated = 0, all = rows(coding);
    all.forEach(function (row) { if (ratingOf(row).trim() !== "") { rated += 1; } });
    var ratedText = coding.querySelector(".mwf-rated");
    if (ratedText) {
      ratedText.textContent = (coding.getAttribute("data-msg-rated") || "")
        .replace("{rated}", rated).replace("{total}", all.length);
    }
    var source = coding.querySelector(".mwf-live-summary script[type='application/json']");
    if (!source) { return; }
    var summaries = JSON.parse(source.textContent);
    var scores = summaryScores(summaries, valuesOf(coding));
    summaries.forEach(function (summary) {
      var box = coding.querySelector(".mwf-live-summary [data-summary='" + CSS.escape(summary.key) + "']");
      if (!box) { return; }
      var score = summary.key in scores ? scores[summary.key] : null;
      var level = proficiency(summary, score);
      box.querySelector(".mwf-live-value").textContent = score === null ? "—" : formatted(score);
      box.querySelector(".mwf-live-level").textContent = level ? level.label : "";
    });
  }

  function tally(button) {
    var input = button.parentElement.querySelector("input[type=number]");
    var step = parseInt(button.getAttribute("data-step"), 10);
    var max = input.max !== "" ? parseInt(input.max, 10) : COUNT_CEILING;
    var now = wholeNumber(input.value);
    input.value = String(Math.min(max, Math.max(0, (now === null ? 0 : now) + step)));
    // As if typed: the autosave, the identifier check and the summaries hear it.
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
  }

  function timer(coding) {
    var shown = coding.querySelector(".mwf-timer"), toggle = coding.querySelector(".mwf-timer-toggle");
    var reset = coding.querySelector(".mwf-timer-reset");
    if (!shown || !toggle) { return; }
    var msg = function (name) { return coding.getAttribute("data-msg-" + name) || ""; };
    var elapsed = 0, since = null, ticking = null;
    function seconds() { return Math.floor((elapsed + (since === null ? 0 : Date.now() - since)) / 1000); }
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function show() {
      var s = seconds(), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
      shown.textContent = (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s % 60);
    }
    toggle.addEventListener("click", function () {
      if (since === null) {
        since = Date.now();
        ticking = window.setInterval(show, 250);
        toggle.textContent = msg("pause");
      } else {
        elapsed += Date.now() - since;
        since = null;
        window.clearInterval(ticking);
        toggle.textContent = msg("resume");
        show();
      }
    });
    if (reset) {
      reset.addEventListener("click", function () {
        elapsed = 0;
        if (since !== null) { since = Date.now(); } else { toggle.textContent = msg("start"); }
        show();
      });
    }
  }

  function enhance(coding) {
    if (coding.getAttribute("data-enhanced")) { return; }
    coding.setAttribute("data-enhanced", "1");
    var bar = coding.querySelector(".mwf-coding-bar");
    if (bar) { bar.hidden = false; }
    coding.querySelectorAll(".mwf-tally-step").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { tally(button); });
    });
    timer(coding);
    coding.addEventListener("input", function () { refresh(coding); });
    coding.addEventListener("change", function () { refresh(coding); });
    var form = coding.closest("form");
    if (form) {
      form.addEventListener("reset", function () {  // the sign-off block's next session: folded again
        coding.querySelectorAll("details").forEach(function (details) { details.open = false; });
        window.setTimeout(function () { refresh(coding); }, 0);
      });
      // A draft restored from this browser (observation_form.js): its notes are shown, its scores counted.
      form.addEventListener("mwf-restored", function () {
        coding.querySelectorAll("details.mwf-note").forEach(function (note) {
          if (Array.prototype.some.call(note.querySelectorAll("textarea"), function (t) { return t.value.trim(); })) { note.open = true; }
        });
        refresh(coding);
      });
    }
    refresh(coding);
  }

  function enhanceAll(scope) {
    (scope || document).querySelectorAll(".mwf-coding").forEach(enhance);
  }

  root.MiiwrapCodingMode = {enhanceAll: enhanceAll, rules: rules};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  } else {
    enhanceAll(document);
  }
}(typeof window !== "undefined" ? window : this));
