"""Converters: published detector weights in their authors' formats → the platform's `.keras`."""
