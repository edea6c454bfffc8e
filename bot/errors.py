"""The exception tree every layer raises; third-party errors are wrapped at the boundary with `raise ... from e`."""

from __future__ import annotations


class NewsbotError(Exception):
    """Root of every error newsbot raises on purpose; its message is meant for a person."""


class ConfigError(NewsbotError):
    """Bad settings or a bad feeds.yaml; the message names the variable, or the file, line and key."""


class FeedError(NewsbotError):
    """A feed (or an article page) could not be fetched or parsed."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.reason = message


class UnsafeURLError(FeedError):
    """A URL the SSRF guard refuses: bad scheme, or a host resolving to a private/loopback/metadata address."""


class StorageError(NewsbotError):
    """The SQLite store failed or holds something unexpected."""


class ModelError(NewsbotError):
    """A language model could not be loaded or run."""
