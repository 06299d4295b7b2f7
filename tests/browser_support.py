"""Helpers for the browser tests: Debian's chromium through Playwright, and axe scans."""
from datetime import timedelta

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERIOUS = {"serious", "critical"}


def serious_violations(tab, context=None):
    """axe's serious and critical violations on the page (or within ``context``), as readable strings."""
    from axe_playwright_python.sync_playwright import Axe  # pylint: disable=import-outside-toplevel

    results = Axe().run(tab, context=context)
    return [
        f"{violation['id']}: {violation['help']} ({len(violation['nodes'])} nodes)"
        for violation in results.response["violations"] if violation.get("impact") in SERIOUS
    ]


def login(tab, base_url, username, password):
    tab.goto(f"{base_url}/login/?username={username}")
    tab.fill("#id_password", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base_url}/")


def days_ago(days):
    """A practice date as the date field takes it, ``days`` before today: the demo seeds its sessions
    relative to today, so a test that types a fixed date changes meaning as the calendar moves on."""
    from django.utils import timezone  # pylint: disable=import-outside-toplevel

    return (timezone.now().date() - timedelta(days=days)).isoformat()
