"""Entry points the platform calls: openedx-filters steps, signal receivers, log filters. They call ``api`` only."""
