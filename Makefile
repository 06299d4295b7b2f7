# The two commands a newcomer needs: `make demo` and `make test`. Everything else is set up here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12: found on PATH or in pyenv's versions folder.
PYENV_BINS := $(wildcard $(HOME)/.pyenv/versions/3.12*/bin)
export PATH := $(subst $(eval) ,:,$(PYENV_BINS)):$(PATH)
PYTHON312 := $(firstword $(foreach dir,$(PYENV_BINS),$(wildcard $(dir)/python3.12)) $(shell command -v python3.12 2>/dev/null))

VENV := .venv
TOOLS := .venv-tools
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help demo test bench bench-mariadb system-packages translations clean

help:
	@echo "make demo   - set up and serve the sandbox on http://127.0.0.1:8000"
	@echo "make test   - run the whole test suite (tox: lint and layers; the suite on Open edX Verawood pins a year ahead; MariaDB; master pins; xAPI; Tutor)"
	@echo "make bench  - print performance figures (SQLite; make bench-mariadb: on a throwaway MariaDB)"

$(VENV)/.installed: setup.py requirements/demo.txt requirements/test.txt
	@test -n "$(PYTHON312)" || { echo "Python 3.12 is required (python3.12 on PATH or in pyenv)"; exit 1; }
	$(PYTHON312) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e . -r requirements/demo.txt -r requirements/test.txt
	touch $@

demo: $(VENV)/.installed
	cd demo && ../$(VENV)/bin/python manage.py migrate --run-syncdb --noinput -v0
	cd demo && ../$(VENV)/bin/python manage.py seed_demo
	@echo "Serving the sandbox on http://127.0.0.1:8000 (Ctrl-C to stop)"
	cd demo && ../$(VENV)/bin/python manage.py runserver 127.0.0.1:8000

system-packages:
	@# Debian packages the tests need: chromium (browser tests), gettext (catalog checks), MariaDB
	@# server and client headers (the py312-mariadb env builds mysqlclient and starts its own server),
	@# faketime (the openedx-verawood env runs the suite a year ahead).
	@missing=""; [ -x /usr/bin/chromium ] || missing="chromium"; \
	command -v xgettext >/dev/null || missing="$$missing gettext"; \
	[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null || missing="$$missing mariadb-server"; \
	command -v mariadb_config >/dev/null || command -v mysql_config >/dev/null || missing="$$missing libmariadb-dev"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v faketime >/dev/null || missing="$$missing faketime"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages for the tests:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(TOOLS)/.installed: Makefile
	@test -n "$(PYTHON312)" || { echo "Python 3.12 is required (python3.12 on PATH or in pyenv)"; exit 1; }
	$(PYTHON312) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --upgrade pip
	$(TOOLS)/bin/pip install -q 'tox>=4.20' 'tox-uv>=1.11'
	touch $@

test: system-packages $(TOOLS)/.installed
	@# A wheel built here must hold this tree's modules only: setuptools never empties build/lib.
	rm -rf build/lib
	$(TOOLS)/bin/tox run

bench: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/run.py

# The same figures on MariaDB (as Open edX runs MySQL), on a server started for the run and stopped after.
bench-mariadb: system-packages $(VENV)/.installed
	$(VENV)/bin/pip install -q mysqlclient
	MIIWRAP_DB_ENGINE=mysql MIIWRAP_DB_USER=miiwrap MIIWRAP_DB_PASSWORD=miiwrap \
		bash scripts/mariadb.sh run $(VENV)/bin/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(TOOLS) .tox build dist *.egg-info demo/db.sqlite3

translations: $(VENV)/.installed
	scripts/update_translations.sh
