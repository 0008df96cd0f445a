"""secman: a Certificate Authority's Security Policy and Security Manual as running software."""

__version__ = "0.1.0"
