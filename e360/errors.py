"""One exception root: the CLI catches `E360Error` and prints its message without a traceback."""

from __future__ import annotations


class E360Error(Exception):
    """Base of every error e360 raises on purpose; the message is meant for the user."""


class ConfigError(E360Error):
    """The configuration file is missing, unparsable or invalid."""


class IngestError(E360Error):
    """A landing file or source could not be ingested at all (bad rows are quarantined instead)."""


class MatchError(E360Error):
    """Entity resolution could not run (no data, an unusable model, a broken setting)."""


class PublishError(E360Error):
    """Loading the warehouse or building the dbt project failed."""
