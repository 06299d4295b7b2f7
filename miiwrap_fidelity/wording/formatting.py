"""
Numbers and percentages as the active language writes them ("96.7%" in English, "96,7 %" in
Spanish), so that tables, figures and charts on one page agree.
"""
from django.utils.formats import number_format
from django.utils.translation import gettext as _


def number(value, digits=1):
    """``value`` with at most ``digits`` decimals (trailing zeros dropped), in the active locale."""
    if value is None:
        return ""
    rounded = round(float(value), digits)
    if rounded == int(rounded):
        return number_format(int(rounded), use_l10n=True)
    text = f"{rounded:.{digits}f}".rstrip("0")
    return number_format(float(text), decimal_pos=len(text.split(".")[1]), use_l10n=True)


def percent(value, digits=1):
    """``value`` (already 0-100) as a percentage in the active locale, e.g. "95.2%" / "95,2 %"."""
    if value is None:
        return ""
    # Translators: a percentage; keep %(number)s and write the percent sign as your language does
    # (Spanish puts a no-break space before it).
    return _("%(number)s%%") % {"number": number(value, digits)}
