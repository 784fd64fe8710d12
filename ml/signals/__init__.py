"""Signals: each kind of evidence measured on the people of an analysis."""
