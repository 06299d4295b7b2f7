"""Tutor plugin that installs miiwrap-fidelity into the Open edX image and configures it."""
