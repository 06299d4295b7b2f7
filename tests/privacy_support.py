"""The browser's side of the identifier check (privacy.py), run in node for the tests."""
import json
import shutil
import subprocess

import pytest

from miiwrap_fidelity.rules import privacy

needs_node = pytest.mark.skipif(shutil.which("node") is None,
                                reason="node is not installed (the browser test covers the page)")

# normalize() as observation_form.js and signoff_coach.js do it (normalizedFor) with the served data, and
# each served pattern compiled as they compile it: new RegExp(source, flags + "u"). Input on stdin.
_SCRIPT = """
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const spec = input.normalization;
const normalize = t => Array.prototype.map.call(t.normalize("NFKC"), ch =>
  spec.invisible.indexOf(ch) >= 0 ? "" : (spec.fold[ch] || ch)).join("");
const patterns = input.patterns.map(p => ({kind: p.kind, regex: new RegExp(p.source, p.flags + "u")}));
const check = t => [...new Set(patterns.filter(p => p.regex.test(normalize(t))).map(p => p.kind))];
let kinds;
const ms = [];
for (let run = 0; run < 7; run++) {  // the first two let V8 compile the patterns; the median of the rest
  const started = process.hrtime.bigint();
  kinds = input.texts.map(check);
  ms.push(Number(process.hrtime.bigint() - started) / 1e6);
}
console.log(JSON.stringify({kinds, ms: ms.slice(2).sort((a, b) => a - b)[2]}));
"""


def browser_warnings(texts, timeout=None):
    """
    ``(kinds, ms)``: for each of ``texts`` the kinds the page's check finds (``privacy.identifier_warnings``
    in the browser), and the milliseconds the check of all of them takes there (a median of five).
    ``timeout``: seconds after which node is stopped (``subprocess.TimeoutExpired``).
    """
    data = json.dumps({"patterns": privacy.client_patterns(), "normalization": privacy.client_normalization(),
                       "texts": list(texts)})
    result = json.loads(subprocess.run(["node", "-e", _SCRIPT], input=data, capture_output=True, text=True,
                                       check=True, timeout=timeout).stdout)
    return result["kinds"], result["ms"]
