"""REST API of miiwrap-fidelity."""
