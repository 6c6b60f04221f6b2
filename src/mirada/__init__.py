"""Mirada: self-hosted image classification."""

__version__ = "0.1.0"
