"""Apprentice: a private-by-default terminal assistant whose brain runs on your machine."""

__version__ = "0.1.0"
