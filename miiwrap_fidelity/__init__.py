"""miiwrap-fidelity: competency-based certification on observed practice for Open edX."""

__version__ = "0.1.0"
