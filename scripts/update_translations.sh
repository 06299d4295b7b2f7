#!/usr/bin/env bash
# Maintainers: extract every translatable string of the plugin and the XBlocks, merge them into
# translations/es/LC_MESSAGES/django.po, and compile django.mo plus text.mo (the XBlock domain).
# Needs GNU gettext (apt-get install gettext). Translate the new entries, then run it again.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r miiwrap_fidelity xblocks/miiwrap_xblocks "$work/"
# The sandbox's few messages (its certificate request answers) are translated too, for the Spanish demo.
cp -r demo/sandbox "$work/"
mkdir -p "$work/locale"
(cd "$work" && PYTHONPATH="$OLDPWD/demo" DJANGO_SETTINGS_MODULE=sandbox_project.settings \
    "$OLDPWD/.venv/bin/django-admin" makemessages -l es --no-location --ignore='*/migrations/*' >/dev/null)
catalog=translations/es/LC_MESSAGES
msgmerge --quiet --update --no-fuzzy-matching --backup=none "$catalog/django.po" "$work/locale/es/LC_MESSAGES/django.po"
msgattrib --no-obsolete -o "$catalog/django.po" "$catalog/django.po"
msgfmt --check --statistics -o "$catalog/django.mo" "$catalog/django.po"
cp "$catalog/django.mo" "$catalog/text.mo"
