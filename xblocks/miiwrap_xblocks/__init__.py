"""Companion XBlocks of miiwrap-fidelity; thin views over ``miiwrap_fidelity.api``."""
