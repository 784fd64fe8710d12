"""Converters from published detector checkpoints of other frameworks to the platform's Keras models."""
