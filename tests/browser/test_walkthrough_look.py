"""
The sandbox walkthrough's UI findings, seen in Debian's chromium: the leader view's bar charts fit a
390 px phone with room between their labels and their frame; the indicator grid's sticky first column
carries its own border and ground; the growth chart keeps its y-axis labels in view once scrolled; a
"Record with:" choice reopens the observation form with focus on the choice; a single setting is chosen.
"""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from sandbox.views import DEMO_PASSWORD

from browser_support import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:MiiWrap+FID101+2026"


@pytest.fixture
def seeded(db):
    call_command("seed_demo", verbosity=0)


def open_tab(browser, live_server, username, width, language="en"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=language,
                                  extra_http_headers={"Accept-Language": language})
    tab = context.new_page()
    login(tab, live_server.url, username, DEMO_PASSWORD)
    return context, tab


@pytest.mark.parametrize("width", [1280, 390])
def test_bar_charts_fit_and_keep_their_labels_off_the_frame(seeded, live_server, browser, width):
    context, tab = open_tab(browser, live_server, "lead_lee", width)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/leaders/")
    charts = tab.evaluate("""() => Array.from(document.querySelectorAll('svg.mwf-bars')).map(svg => {
        const frame = svg.getBoundingClientRect(), figure = svg.parentElement;
        const texts = Array.from(svg.querySelectorAll('text')).map(t => t.getBoundingClientRect());
        return {overflow: figure.scrollWidth - figure.clientWidth, right: frame.right,
                main: document.querySelector('main').getBoundingClientRect().right
                      - parseFloat(getComputedStyle(document.querySelector('main')).paddingRight),
                gapLeft: Math.min(...texts.map(t => t.left)) - frame.left,
                gapTop: Math.min(...texts.map(t => t.top)) - frame.top,
                gapRight: frame.right - Math.max(...texts.map(t => t.right)),
                gapBottom: frame.bottom - Math.max(...texts.map(t => t.bottom))};
    })""")
    assert len(charts) == 4
    for chart in charts:
        assert chart["overflow"] <= 0, chart
        assert chart["right"] <= chart["main"] + 0.5, f"the frame runs past the margin: {chart}"
        assert min(chart["gapLeft"], chart["gapTop"], chart["gapRight"], chart["gapBottom"]) >= 6, chart
    assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    context.close()


def test_the_grids_sticky_column_is_opaque_and_above_what_scrolls_under_it(seeded, live_server, browser):
    context, tab = open_tab(browser, live_server, "learner_cam", 390)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/me/")
    cell = tab.locator("table.mwf-trend tbody th[scope=row]").first
    style = cell.evaluate("""c => { const s = getComputedStyle(c), t = getComputedStyle(c.closest('table'));
        return [s.position, s.zIndex, s.backgroundColor, s.borderRightWidth, t.borderCollapse]; }""")
    assert style == ["sticky", "2", "rgb(255, 255, 255)", "1px", "separate"]
    # What is on top at the sticky cell's right edge is the sticky cell, in every row.
    on_top = tab.evaluate("""() => Array.from(document.querySelectorAll('table.mwf-trend tbody th[scope=row]')).map(th => {
        window.scrollTo(0, th.getBoundingClientRect().top + window.scrollY - 100);
        const box = th.getBoundingClientRect(), hit = document.elementFromPoint(box.right - 3, box.top + 8);
        return th.contains(hit);
    })""")
    assert on_top and all(on_top)
    context.close()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_growth_charts_y_axis_stays_in_view_when_scrolled(seeded, live_server, browser, language):
    context, tab = open_tab(browser, live_server, "learner_cam", 390, language)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/me/")
    region = tab.locator("section[aria-labelledby=mwf-growth-heading] .mwf-figure .mwf-scroll-newest")
    assert region.evaluate("r => r.scrollLeft") > 0, "it opens scrolled to the newest point"
    region.evaluate("r => r.scrollIntoView({block: 'center'})")
    labels = region.evaluate("""r => { const box = r.getBoundingClientRect();
        return Array.from(r.querySelectorAll('svg.mwf-chart-axis text')).map(t => {
            const b = t.getBoundingClientRect();
            return [t.textContent, b.left >= box.left - 0.5 && b.right <= box.right + 0.5,
                    r.contains(document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2))];
        }); }""")
    assert [label[0] for label in labels] == (["0%", "25%", "50%", "75%", "100%"] if language == "en"
                                             else ["0\u00a0%", "25\u00a0%", "50\u00a0%", "75\u00a0%", "100\u00a0%"])
    assert all(inside and shown for _text, inside, shown in labels), labels
    assert tab.locator("svg.mwf-chart-axis").get_attribute("aria-hidden") == "true"
    context.close()


def test_choosing_an_instrument_reopens_the_form_on_it(seeded, live_server, browser):
    context, tab = open_tab(browser, live_server, "coach_casey", 1280)
    cam = get_user_model().objects.get(username="learner_cam").pk
    url = f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{cam}/"
    tab.goto(url)
    assert tab.locator("#mwf-record-disclosure").evaluate("d => d.open") is False
    tab.locator("#mwf-record-disclosure > summary").click()
    link = tab.locator(".mwf-instrument-choice a").first
    title = link.inner_text()
    link.click()
    tab.wait_for_url("**?instrument=*")
    assert tab.locator("#mwf-record-disclosure").evaluate("d => d.open") is True
    tab.wait_for_load_state("load")
    focused = tab.evaluate("document.activeElement.textContent")
    assert focused == title and tab.evaluate("document.activeElement.getAttribute('aria-current')") == "true"
    assert tab.locator("#mwf-record-heading").evaluate("h => h.getBoundingClientRect().top") < 200
    context.close()


def test_the_only_setting_is_chosen(seeded, live_server, browser):
    context, tab = open_tab(browser, live_server, "coach_casey", 1280)
    cam = get_user_model().objects.get(username="learner_cam").pk
    base = f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{cam}/"
    tab.goto(base)
    options = tab.locator("#mwf-setting option:not([value=''])")
    seen_single = False
    for href in tab.locator(".mwf-instrument-choice a").evaluate_all("links => links.map(a => a.getAttribute('href'))") + [""]:
        tab.goto(base + href)
        count = options.count()
        value = tab.locator("#mwf-setting").input_value()
        if count == 1:
            seen_single = True
            assert value == options.first.get_attribute("value")
        else:
            assert value == ""
    assert seen_single, "the demo's team-meeting instrument is used in one setting"
    context.close()
