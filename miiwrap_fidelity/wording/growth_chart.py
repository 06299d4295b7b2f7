"""
A learner's growth over time, for people to read: the score trend as an SVG chart readable without
color, the per-indicator trend, and feedback gathered into strengths and next steps.

Pure functions over ``data.ObservationData`` values; no queries.
"""
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .formatting import percent

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 260, 64, 48, 24, 48
TREND_COLUMNS = 6


def score_points(observations, qualifying_ids):
    """
    ``[(practice date, percent, does not qualify)]`` of submitted, scored observations, oldest first;
    the flag is set unless the observation's id is in ``qualifying_ids`` (``competency`` decides: an
    essential indicator missed, a summary score short, a setting no requirement asks for...).
    """
    rows = [o for o in observations if o.status == "submitted" and o.percent is not None]
    return [(o.practice_date, o.percent, o.pk not in qualifying_ids)
            for o in sorted(rows, key=lambda o: (o.practice_date, o.pk))]


def score_trend_svg(points, threshold):
    """
    An accessible line chart of the fidelity score: title and description, labelled axes, each
    point labelled with its value, the threshold as a dashed, labelled line (none when the policy
    asks for no percent: ``threshold`` None). Empty string when there are no points.
    """
    if not points:
        return ""
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x(index):
        return PAD_LEFT + (index * step if len(points) > 1 else plot_w / 2)

    def y(value):
        return PAD_TOP + plot_h * (1 - value / 100)

    title = _("Fidelity score over time")
    values = {"count": len(points), "threshold": threshold, "latest": points[-1][1],
              "date": points[-1][0].isoformat()}
    if threshold is None:
        description = _("%(count)s observations. Latest: %(latest)s%% on %(date)s.") % values
        threshold = -1  # every point is at or above "no line"
    else:
        description = _("%(count)s observations; the dashed line marks the %(threshold)s%% needed to qualify. "
                        "Latest: %(latest)s%% on %(date)s.") % values
    missed = sum(1 for _day, value, not_qualifying in points if not_qualifying and value >= threshold)
    if missed:
        description += " " + ngettext(
            "%(count)s observation at or above the line does not qualify: an essential indicator missed or "
            "another requirement not met (crossed circle).",
            "%(count)s observations at or above the line do not qualify: an essential indicator missed or "
            "another requirement not met (crossed circles).",
            missed) % {"count": missed}
    # Worded outside the f-strings below: xgettext does not find gettext calls inside them.
    needed = _("needed: %(threshold)s") % {"threshold": percent(max(threshold, 0))}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="mwf-trend-title mwf-trend-desc" class="mwf-chart">',
        f'<title id="mwf-trend-title">{escape(title)}</title><desc id="mwf-trend-desc">{escape(description)}</desc>',
    ]
    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="#d0d0d0" stroke-width="1"/>'
                     f'<text x="{PAD_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="#1b1b1b">{escape(percent(tick))}</text>')
    if threshold >= 0:
        parts.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(threshold):.1f}" '
                     f'y2="{y(threshold):.1f}" stroke="#1b1b1b" stroke-width="2" stroke-dasharray="8 5"/>'
                     f'<text x="{WIDTH - PAD_RIGHT}" y="{y(threshold) - 6:.1f}" text-anchor="end" font-size="12" '
                     f'fill="#1b1b1b">{escape(needed)}</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(value):.1f}"
                    for i, (_day, value, _missed) in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="#0a3055" stroke-width="2"/>')
    for index, (day, value, not_qualifying) in enumerate(points):
        # Below the threshold: a hollow square; at or above it but not qualifying (an essential
        # indicator missed, another condition): a hollow circle with a cross; otherwise a filled
        # circle (shape tells).
        if value < threshold:
            marker = (f'<rect x="{x(index) - 5:.1f}" y="{y(value) - 5:.1f}" width="10" height="10" fill="#fff" '
                      f'stroke="#0a3055" stroke-width="2"/>')
        elif not_qualifying:
            cx, cy = x(index), y(value)
            marker = (f'<g class="mwf-point-not-qualifying"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="#fff" '
                      f'stroke="#a4161a" stroke-width="2"/><path d="M{cx - 3.5:.1f},{cy - 3.5:.1f}L{cx + 3.5:.1f},'
                      f'{cy + 3.5:.1f}M{cx - 3.5:.1f},{cy + 3.5:.1f}L{cx + 3.5:.1f},{cy - 3.5:.1f}" '
                      f'stroke="#a4161a" stroke-width="2"/></g>')
        else:
            marker = f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="5" fill="#0a3055"/>'
        parts.append(marker + f'<text x="{x(index):.1f}" y="{y(value) - 10:.1f}" text-anchor="middle" '
                              f'font-size="12" fill="#1b1b1b">{escape(percent(value))}</text>'
                              f'<text x="{x(index):.1f}" y="{HEIGHT - PAD_BOTTOM + 18}" text-anchor="middle" '
                              f'font-size="11" fill="#1b1b1b">{escape(day.strftime("%Y-%m-%d"))}</text>')
    parts.append("</svg>")
    return f'<div class="mwf-chart-row">{"".join(parts)}{_y_axis_svg(y)}</div>'


def _y_axis_svg(y):
    """
    The chart's y-axis labels once more, in a narrow SVG that miiwrap_look.css lays over the chart's
    left edge and keeps there (sticky) while a phone scrolls the chart sideways to its newest points.
    Its white ground covers the plot as it scrolls under, not the dates below it. Hidden from screen
    readers: the chart itself says the same (its title and description).
    """
    ground = HEIGHT - PAD_BOTTOM + 6
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PAD_LEFT} {HEIGHT}" width="{PAD_LEFT}" '
             f'height="{HEIGHT}" aria-hidden="true" focusable="false" class="mwf-chart-axis">',
             f'<rect x="0" y="0" width="{PAD_LEFT}" height="{ground}" fill="#fff"/>',
             f'<line x1="{PAD_LEFT - 0.5}" x2="{PAD_LEFT - 0.5}" y1="{y(100):.1f}" y2="{y(0):.1f}" '
             f'stroke="#6b6b6b" stroke-width="1"/>']
    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="#1b1b1b">{escape(percent(tick))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def indicator_trend(observations, indicators, columns=TREND_COLUMNS):
    """
    Per indicator, its outcome in the latest ``columns`` submitted observations (oldest first):
    ``{"indicator", "cells": [{"date", "outcome": "met" | "not_yet" | "na" | "unrated", "label"}]}``.
    """
    recent = sorted((o for o in observations if o.status == "submitted"),
                    key=lambda o: (o.practice_date, o.pk))[-columns:]
    by_observation = [{r.indicator_id: r for r in o.ratings} for o in recent]
    labels = {"met": _("met"), "not_yet": _("not yet"), "na": _("not applicable"), "unrated": _("not rated")}
    rows = []
    for indicator in indicators:
        numeric = getattr(indicator, "kind", "levels") != "levels"  # a scale point or a tally reads as its number
        cells = []
        for observation, ratings in zip(recent, by_observation):
            rating = ratings.get(indicator.id)
            outcome = rating.outcome if rating is not None else "unrated"
            label = rating.level_label if numeric and rating is not None and rating.level else labels[outcome]
            cells.append({"date": observation.practice_date, "outcome": outcome, "label": label})
        rows.append({"indicator": indicator, "cells": cells})
    return rows, [o.practice_date for o in recent]


def feedback_timeline(observations):
    """Strengths and next steps per submitted observation, newest first."""
    timeline = []
    for observation in sorted((o for o in observations if o.status == "submitted"),
                              key=lambda o: (o.practice_date, o.pk), reverse=True):
        timeline.append({
            "observation": observation,
            "strengths": [(r.indicator_label, r.strength) for r in observation.ratings if r.strength],
            "next_steps": [(r.indicator_label, r.next_step) for r in observation.ratings if r.next_step],
        })
    return timeline
