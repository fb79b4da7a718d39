"""gep: ecological product value realization — GEP accounting and the platform around it."""

__version__ = "0.1.0"
