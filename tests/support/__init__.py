"""Helpers for the tests: real servers and clients, no mocks."""
