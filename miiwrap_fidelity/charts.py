"""Horizontal bar charts as accessible SVG: every bar carries its value as text, so no color is needed."""
from django.utils.html import escape
from django.utils.translation import gettext as _

ROW, LABEL_W, BAR_W, VALUE_W = 26, 220, 300, 280


def bar_svg(chart_id, title, rows, maximum=100, unit="%"):
    """
    ``rows``: ``[(label, value or None)]``; None draws no bar and says the cell is suppressed
    (fewer than five learners).
    """
    height = ROW * len(rows) + 10
    width = LABEL_W + BAR_W + VALUE_W
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title" class="mwf-chart mwf-bars">',
             f'<title id="{chart_id}-title">{escape(title)}</title>']
    for index, (label, value) in enumerate(rows):
        y = 5 + index * ROW
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end" font-size="13" '
                     f'fill="#1b1b1b">{escape(label)}</text>')
        if value is None:
            text = _("suppressed (fewer than 5 learners)")
        else:
            length = max(1.0, BAR_W * min(value, maximum) / maximum) if maximum else 0
            parts.append(f'<rect x="{LABEL_W}" y="{y + 4}" width="{length:.1f}" height="16" fill="#0a3055"/>')
            text = f"{value:g}{unit}"
        parts.append(f'<text x="{LABEL_W + BAR_W + 8}" y="{y + 17}" font-size="13" fill="#1b1b1b">'
                     f'{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
