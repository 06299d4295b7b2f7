"""
Issue 15's look, walked in Debian's chromium: every page at 1280 px and 390 px, in English and
Spanish, with axe (0 serious / critical), no horizontal page scroll, tables as stacked rows and
chart text of 11 px or more on the phone; a screenshot of every page goes to build/screenshots/
(MIIWRAP_SCREENSHOTS names another folder) so a reviewer can look without running the demo.
"""
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from sandbox.views import DEMO_PASSWORD

from browser_support import login, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:MiiWrap+FID101+2026"
SCREENSHOTS = Path(os.environ.get("MIIWRAP_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "build" / "screenshots")
WIDTHS = {"desktop": 1280, "phone": 390}
#: The coach's learner page, the page a coach uses most, at 1280 px for learner_cam as seeded:
#: the form to record an observation starts within the first screen and a third, and the page
#: (its anchor ``#mwf-coach-learner-page``, sections folded) stays under the budget of ADR 0015
#: (3,000 px; branch issue-15-coach measures it for a long history too).
RECORD_FORM_STARTS_WITHIN_PX = 1200
LEARNER_PAGE_BUDGET_PX = 3000
#: Pages per user: (name, path). The learner page is that of learner_cam (three observations).
PAGES = {
    "learner_cam": [("home", "/"), ("my-competency", f"/miiwrap-fidelity/courses/{COURSE}/me/"),
                    ("messages", "/miiwrap-fidelity/messages/")],
    "coach_casey": [("workspace", f"/miiwrap-fidelity/courses/{COURSE}/coaching/"),
                    ("learner-detail", f"/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{{cam}}/"),
                    ("forbidden", f"/miiwrap-fidelity/courses/{COURSE}/coaching/leaders/")],
    "lead_lee": [("leaders", f"/miiwrap-fidelity/courses/{COURSE}/coaching/leaders/"),
                 ("reliability", f"/miiwrap-fidelity/courses/{COURSE}/coaching/reliability/"),
                 ("alerts", f"/miiwrap-fidelity/courses/{COURSE}/coaching/alerts/"),
                 ("policy", f"/miiwrap-fidelity/courses/{COURSE}/coaching/policy/"),
                 ("assignments", f"/miiwrap-fidelity/courses/{COURSE}/coaching/assignments/"),
                 ("not-found", "/no/such/page/")],
}
STATUS = {"forbidden": 403, "not-found": 404}


@pytest.fixture
def seeded(db):
    call_command("seed_demo", verbosity=0)


def horizontal_overflow(tab):
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def smallest_chart_text(tab):
    """The smallest rendered font size (px) of any text in the page's charts, or None without charts."""
    return tab.evaluate("""() => {
        let smallest = null;
        for (const svg of document.querySelectorAll('svg.mwf-chart')) {
            const box = svg.viewBox.baseVal, scale = svg.getBoundingClientRect().width / box.width;
            for (const text of svg.querySelectorAll('text')) {
                const size = parseFloat(text.getAttribute('font-size')) * scale;
                smallest = smallest === null ? size : Math.min(smallest, size);
            }
        }
        return smallest;
    }""")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("device", list(WIDTHS))
def test_every_page_fits_reads_and_passes_axe(seeded, live_server, browser, device, language):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    cam = get_user_model().objects.get(username="learner_cam").pk
    width = WIDTHS[device]
    problems = []
    for username, pages in PAGES.items():
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=language,
                                      extra_http_headers={"Accept-Language": language})
        tab = context.new_page()
        login(tab, live_server.url, username, DEMO_PASSWORD)
        for name, path in pages:
            response = tab.goto(live_server.url + path.format(cam=cam))
            assert response.status == STATUS.get(name, 200), (name, response.status)
            tab.screenshot(path=str(SCREENSHOTS / f"{name}-{device}-{language}.png"), full_page=True)
            assert tab.get_attribute("html", "lang") == language
            if (overflow := horizontal_overflow(tab)) > 0:
                problems.append(f"{name}: {overflow} px wider than the {width} px window")
            if device == "phone" and (smallest := smallest_chart_text(tab)) is not None and smallest < 11:
                problems.append(f"{name}: chart text {smallest:.1f} px")
            problems += [f"{name}: {violation}" for violation in serious_violations(tab)]
        context.close()
    assert problems == [], "\n".join(problems)


def test_phone_tables_are_stacked_rows_with_labels(seeded, live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 900})
    tab = context.new_page()
    login(tab, live_server.url, "coach_casey", DEMO_PASSWORD)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/")
    row = tab.locator("table.mwf-table tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    assert tab.locator("table.mwf-table thead").evaluate("h => h.getBoundingClientRect().height") <= 1
    status_cell = row.locator("td").first
    assert status_cell.get_attribute("data-label") == "Status"
    assert status_cell.evaluate("c => getComputedStyle(c, '::before').content").startswith('"Status')
    heading = tab.locator("h1")
    assert heading.evaluate("h => h.scrollWidth <= h.clientWidth"), "the course name wraps"
    context.close()


def test_leader_view_in_spanish_writes_numbers_as_spanish_does(seeded, live_server, browser):
    context = browser.new_context(locale="es", extra_http_headers={"Accept-Language": "es"})
    tab = context.new_page()
    login(tab, live_server.url, "lead_lee", DEMO_PASSWORD)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/leaders/")
    text = tab.inner_text("main")
    assert "Frecuencia del coaching" in text and "Tiempo desde la inscripción hasta la certificación" in text
    chart = " ".join(tab.locator("svg.mwf-bars text").all_text_contents())
    assert re.search(r"\d+,\d\u00a0%", chart) and not re.search(r"\d+\.\d+%", chart), chart
    context.close()


def test_coach_learner_page_stays_within_its_height_budget(seeded, live_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    login(tab, live_server.url, "coach_casey", DEMO_PASSWORD)
    cam = get_user_model().objects.get(username="learner_cam").pk
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{cam}/")
    top = tab.locator("#mwf-record-heading").evaluate("h => h.getBoundingClientRect().top + window.scrollY")
    assert top <= RECORD_FORM_STARTS_WITHIN_PX, f"the record form starts at {top:.0f} px"
    sectioned = tab.locator("#mwf-coach-learner-page").count() == 1
    height = tab.locator("#mwf-coach-learner-page").evaluate("p => p.getBoundingClientRect().height") \
        if sectioned else tab.evaluate("document.documentElement.scrollHeight")
    context.close()
    if not sectioned:
        pytest.skip(f"the page is {height} px: the budget applies to the sectioned page with the folded "
                    "form (branch issue-15-coach)")
    assert height <= LEARNER_PAGE_BUDGET_PX, f"the coach's learner page is {height:.0f} px tall"
