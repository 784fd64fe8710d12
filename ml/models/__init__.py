"""Detector models: cards, the catalog, architectures, converters, loading and running them."""
