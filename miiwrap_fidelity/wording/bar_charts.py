"""
Horizontal bar charts as accessible SVG: every bar carries its value as text, so no color is needed.

Each row is two lines (its label, then the bar and its value) so that the chart stays readable on
a 390 px phone: 400 units wide, text at 14 units, so labels stay at 11 px or more down to 315 px.
Everything sits ``PAD`` units inside the chart's frame, so no label touches it.
"""
from django.utils.html import escape
from django.utils.translation import gettext as _

from . import formatting

ROW, BAR_W, VALUE_W, FONT, PAD = 46, 240, 136, 14, 12


def bar_svg(chart_id, title, rows, maximum=100, unit="%"):
    """
    ``rows``: ``[(label, cell)]`` where ``cell`` is an ``aggregates.cell`` dict (``value``,
    ``suppressed``). A suppressed cell draws no bar and says so; a cell without a value (no one
    behind it) says "none"; ``unit`` "%" writes values as percentages, "" as plain numbers.
    """
    height = ROW * len(rows) + 2 * PAD - 10
    width = BAR_W + VALUE_W + 2 * PAD
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title" class="mwf-chart mwf-bars">',
             f'<title id="{chart_id}-title">{escape(title)}</title>']
    # Worded outside the f-strings below: xgettext does not find gettext calls inside them.
    suppressed, empty = _("suppressed (1 to 4 learners)"), _("none")
    for index, (label, cell) in enumerate(rows):
        y = PAD - 4 + index * ROW
        parts.append(f'<text x="{PAD}" y="{y + 15}" font-size="{FONT}" font-weight="600" '
                     f'fill="#1b1b1b">{escape(label)}</text>')
        value = cell.get("value")
        if cell.get("suppressed"):
            parts.append(f'<text x="{PAD}" y="{y + 36}" font-size="{FONT}" fill="#1b1b1b">'
                         f'{escape(suppressed)}</text>')
            continue
        if value is None:
            parts.append(f'<text x="{PAD}" y="{y + 36}" font-size="{FONT}" fill="#1b1b1b">{escape(empty)}</text>')
            continue
        length = max(1.0, BAR_W * min(value, maximum) / maximum) if maximum and value else 0
        text = formatting.percent(value) if unit == "%" else formatting.number(value)
        parts.append(f'<rect x="{PAD}" y="{y + 22}" width="{length:.1f}" height="18" fill="#0a3055"/>'
                     f'<text x="{PAD + length + 6:.1f}" y="{y + 36}" font-size="{FONT}" fill="#1b1b1b">'
                     f'{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
