"""Errors the science raises on purpose.

`MediaError` carries a message that is safe to show a user as it is. Anything else raised
from `ml` is a bug: the platform logs it with its traceback and shows a generic message.
"""


class MediaError(Exception):
    """The input cannot be analysed (unreadable, empty, unsupported, too large...)."""


class ModelError(Exception):
    """A detector model file or card is unusable (corrupt, wrong checksum, arch mismatch)."""
