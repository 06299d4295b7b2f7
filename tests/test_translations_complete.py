"""Every user-facing string is in the Spanish catalog, translated, and the compiled catalogs are current."""
import os
import shutil
import subprocess

import polib
import pytest
from django.core.management import call_command

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOG = os.path.join(ROOT, "translations", "es", "LC_MESSAGES")


def test_every_extracted_string_is_translated(tmp_path, monkeypatch):
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is missing: `make test` installs it")
    shutil.copytree(os.path.join(ROOT, "miiwrap_fidelity"), tmp_path / "miiwrap_fidelity")
    shutil.copytree(os.path.join(ROOT, "xblocks", "miiwrap_xblocks"), tmp_path / "miiwrap_xblocks")
    (tmp_path / "locale").mkdir()
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["es"], no_location=True, ignore_patterns=["*/migrations/*"], verbosity=0)
    extracted = {entry.msgid for entry in polib.pofile(str(tmp_path / "locale/es/LC_MESSAGES/django.po"))}
    assert len(extracted) > 250, "the extraction found the strings"
    shipped = {entry.msgid: entry for entry in polib.pofile(os.path.join(CATALOG, "django.po"))}
    missing = sorted(extracted - set(shipped))
    untranslated = sorted(m for m in extracted & set(shipped) if not shipped[m].translated())
    assert not missing and not untranslated, (
        f"run scripts/update_translations.sh and translate: missing {missing}, untranslated {untranslated}")


def test_compiled_catalogs_match_the_sources(tmp_path):
    compiled = tmp_path / "check.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), os.path.join(CATALOG, "django.po")], check=True)
    source = {e.msgid: e.msgstr or e.msgstr_plural for e in polib.mofile(str(compiled))}
    for domain in ("django.mo", "text.mo"):
        shipped = {e.msgid: e.msgstr or e.msgstr_plural for e in polib.mofile(os.path.join(CATALOG, domain))}
        assert shipped == source, f"{domain} is stale: run scripts/update_translations.sh"
