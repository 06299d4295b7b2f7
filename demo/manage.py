#!/usr/bin/env python
"""The sandbox's manage.py: the plugin, the XBlock workbench and a fake platform on SQLite."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
