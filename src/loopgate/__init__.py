"""loopgate: the gate-first control plane for recurring AI-agent loops."""

__version__ = "0.1.0"
