"""
Issue 26's small findings seen in Debian's chromium: at 390 px the growth chart and the indicator grid
start at their newest (right) end and say that older observations are to the left; the leader view's
bar labels are no larger than the page's text at 1280 px (and stay readable on the phone).
"""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from sandbox.views import DEMO_PASSWORD

from browser_support import login, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:MiiWrap+FID101+2026"
HINT = {"en": "Newest on the right: scroll sideways to see older observations.",
        "es": "Lo más reciente está a la derecha: desplácese hacia los lados para ver las observaciones anteriores."}


@pytest.fixture
def seeded(db):
    call_command("seed_demo", verbosity=0)


def scroll_state(region):
    """``(scrollLeft, the most it can scroll)`` of a scrolling region."""
    return region.evaluate("r => [Math.round(r.scrollLeft), r.scrollWidth - r.clientWidth]")


@pytest.mark.parametrize("language", ["en", "es"])
def test_growth_starts_at_the_newest_end_with_a_hint_on_the_phone(seeded, live_server, browser, language):
    context = browser.new_context(viewport={"width": 390, "height": 900}, locale=language,
                                  extra_http_headers={"Accept-Language": language})
    tab = context.new_page()
    login(tab, live_server.url, "learner_cam", DEMO_PASSWORD)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/me/")
    growth = tab.locator("section[aria-labelledby=mwf-growth-heading]")
    chart, grid = growth.locator(".mwf-figure .mwf-scroll-newest"), growth.locator("table.mwf-trend").locator("..")
    for region in (chart, grid):
        left, most = scroll_state(region)
        assert most > 0, "wider than the phone: it scrolls"
        assert left >= most - 1, f"starts at the newest end ({left} of {most})"
        hint = region.locator("xpath=following-sibling::p[1]")
        assert hint.is_visible() and hint.inner_text() == HINT[language]
    # The newest date of the grid is on screen, the oldest is not.
    headers = grid.locator("thead th")
    newest = headers.nth(headers.count() - 1).bounding_box()
    assert 0 <= newest["x"] and newest["x"] + newest["width"] <= 390
    assert headers.nth(1).bounding_box()["x"] < 0
    assert serious_violations(tab, ".mwf-figure") == []
    context.close()


def test_the_coachs_folded_grid_starts_at_the_newest_end_when_opened(seeded, live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 900})
    tab = context.new_page()
    login(tab, live_server.url, "coach_casey", DEMO_PASSWORD)
    cam = get_user_model().objects.get(username="learner_cam").pk
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{cam}/")
    tab.locator("#mwf-trend-disclosure > summary").click()
    grid = tab.locator("#mwf-trend-disclosure .mwf-scroll-newest")
    tab.wait_for_function("() => { const r = document.querySelector('#mwf-trend-disclosure .mwf-scroll-newest');"
                          " return r.scrollLeft > 0; }")
    left, most = scroll_state(grid)
    assert most > 0 and left >= most - 1
    assert tab.locator("#mwf-trend-disclosure .mwf-scroll-hint").is_visible()
    context.close()


def test_no_hint_where_nothing_scrolls(seeded, live_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    login(tab, live_server.url, "learner_cam", DEMO_PASSWORD)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/me/")
    assert tab.locator(".mwf-scroll-hint").count() == 2
    assert not any(hint.is_visible() for hint in tab.locator(".mwf-scroll-hint").all())
    context.close()


def bar_label_sizes(tab):
    """Rendered font sizes (px) of the bar charts' row labels."""
    return tab.evaluate("""() => Array.from(document.querySelectorAll('svg.mwf-bars')).flatMap(svg => {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return Array.from(svg.querySelectorAll('text[font-weight]')).map(
            t => parseFloat(t.getAttribute('font-size')) * scale);
    })""")


@pytest.mark.parametrize("width", [1280, 390])
def test_leader_bar_labels_are_no_larger_than_the_pages_text(seeded, live_server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    login(tab, live_server.url, "lead_lee", DEMO_PASSWORD)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/leaders/")
    body = tab.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    sizes = bar_label_sizes(tab)
    assert sizes, "the leader view draws bar charts"
    assert max(sizes) <= body, f"bar labels of {max(sizes):.1f} px beside {body} px text"
    assert min(sizes) >= 11, f"bar labels of {min(sizes):.1f} px"
    context.close()
