"""
Issue 26's coding mode computes the summary scores in the browser as the coach codes
(static/miiwrap_fidelity/coding_mode.js). The server's rating_scales stays the one that is stored; this
test runs the page's copy in node on the same inputs and holds the two to exact agreement: tallies and
points read as numbers, every summary operation, undefined scores, rounding ties, proficiency levels.
The form itself: tests/browser/test_coding_mode_in_browser.py.
"""
import json
import os
import random
import subprocess

import yaml

from miiwrap_fidelity import api
from miiwrap_fidelity.rules import rating_scales as rating_values

from privacy_support import needs_node

SCRIPT = os.path.join(os.path.dirname(api.__file__), "..", "static", "miiwrap_fidelity", "coding_mode.js")
_RUNNER = """
const rules = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify({
  numbers: input.numbers.map(c => rules.numericValue(c.kind, c.points, c.max, c.key)),
  scores: input.cases.map(c => rules.summaryScores(input.summaries, c)),
  levels: input.cases.map(c => input.summaries.map(s => {
    const level = rules.proficiency(s, rules.summaryValue(s, c));
    return level ? level.key : null;
  })),
}));
"""


def in_node(data):
    result = subprocess.run(["node", "-e", _RUNNER, os.path.abspath(SCRIPT)], input=json.dumps(data),
                            capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout)


def mi_summaries():
    with open(api.SAMPLE_INSTRUMENTS[1], encoding="utf-8") as handle:
        return yaml.safe_load(handle)["summaries"]


#: Every operation, lower-is-better levels, a list that repeats a key, keys in both parts of a ratio.
EXTRA = [
    {"key": "mean3", "op": "mean", "of": ["a", "b", "c"], "better": "higher",
     "levels": [{"key": "fair", "threshold": 2.5}, {"key": "good", "threshold": 3.333333}]},
    {"key": "sum-lower", "op": "sum", "of": ["a", "c"], "better": "lower",
     "levels": [{"key": "fair", "threshold": 9}, {"key": "good", "threshold": 3}]},
    {"key": "ratio-shared", "op": "ratio", "numerator": ["a"], "denominator": ["a", "b"], "better": "higher",
     "levels": []},
    {"key": "percent", "op": "percent", "numerator": ["b", "c"], "denominator": ["a"], "better": "higher",
     "levels": [{"key": "good", "threshold": 100}]},
    {"key": "tie", "op": "ratio", "numerator": ["one"], "denominator": ["d"]},  # 1/128 = 0.0078125: a rounding tie
]


def python_side(summaries, cases):
    scores = [rating_values.summary_scores(summaries, case) for case in cases]
    levels = [[(lambda level: level["key"] if level else None)(
        rating_values.proficiency(summary, rating_values.summary_value(summary, case))) for summary in summaries]
        for case in cases]
    return scores, levels


@needs_node
def test_the_pages_summary_scores_agree_with_the_servers():
    chooser = random.Random(26)
    summaries = mi_summaries() + EXTRA
    keys = sorted({key for summary in summaries for key in rating_values.summary_inputs(summary)})
    cases = [{key: 0 for key in keys}, {key: None for key in keys}, {**{key: 1 for key in keys}, "d": 128},
             {**{key: 3 for key in keys}, "d": 7, "question": 3, "simple-reflection": 1}]
    for _ in range(300):
        cases.append({key: chooser.choice([None, 0, 0, 1, 2, 3, 5, 7, 13, 128, 499, 500])
                      if chooser.random() < .9 else chooser.randint(0, 100_000) for key in keys})
    scores, levels = python_side(summaries, cases)
    assert any(score.get("tie") == 0.007812 for score in scores), "the tie case is exercised (half to even)"
    assert any("reflection-question-ratio" not in score for score in scores), "undefined scores are exercised"
    browser = in_node({"summaries": summaries, "cases": cases, "numbers": []})
    assert browser["scores"] == scores
    assert browser["levels"] == levels


@needs_node
def test_the_page_reads_points_and_tallies_as_the_server_does():
    levels = [{"key": str(point)} for point in range(1, 6)]
    keys = ["0", "3", " 04 ", "+5", "-1", "6", "4.5", "", " ", "1e2", "٣", "07", "abc", "1234567890", "500", "501",
            "100000", "100001", "-0"]
    numbers = []
    for key in keys:
        numbers.append({"kind": "scale", "points": [level["key"] for level in levels], "max": None, "key": key})
        numbers.append({"kind": "count", "points": [], "max": 500, "key": key})
        numbers.append({"kind": "count", "points": [], "max": None, "key": key})
        numbers.append({"kind": "levels", "points": ["met"], "max": None, "key": key})
    expected = [rating_values.numeric_value(n["kind"], levels if n["kind"] == "scale" else [],
                                            {"max": n["max"]} if n["max"] is not None else None, n["key"])
                for n in numbers]
    assert in_node({"summaries": [], "cases": [], "numbers": numbers})["numbers"] == expected
