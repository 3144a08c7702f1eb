"""Errors the command line reports by name, kept apart from the modules that raise them.

store.py and classifier.py load sqlite-utils (and with it pandas) and scikit-learn; the
command line catches these errors in every command, and `reputation --help` or
`check-config` must load neither library.
"""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be opened or is not a reputation store."""


class ModelError(Exception):
    """A model file is missing, unreadable, or not one of ours."""
