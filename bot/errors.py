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

    def __reduce__(self) -> tuple[object, ...]:
        # Parsing runs in worker processes; the default pickling would call __init__ with the message alone.
        return (type(self), (self.url, self.reason))


class UnsafeURLError(FeedError):
    """A URL the SSRF guard refuses: bad scheme, or a host resolving to a private/loopback/metadata address."""


class HTTPStatusError(FeedError):
    """The server answered with an error status; `retry_after` (seconds) is set when it said when to come back."""

    def __init__(self, url: str, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(url, message)
        self.status = status
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.url, self.status, self.reason, self.retry_after))


class StorageError(NewsbotError):
    """The SQLite store failed or holds something unexpected."""


class ModelError(NewsbotError):
    """A language model could not be loaded or run."""


class DuplicateFeedError(ConfigError):
    """The feed list already holds this URL (compared normalised)."""


class UnknownFeedError(ConfigError):
    """No feed in the feed list has this URL."""


class OpmlError(NewsbotError):
    """An OPML file was refused: not well-formed XML, not OPML, or unsafe (it declares XML entities)."""


class UsageError(NewsbotError):
    """A command's argument cannot be used; the message says what was wrong, for a one-line correction."""


class LanguageNotOfferedError(UsageError):
    """A language code the engine cannot serve; `offered` lists those it can."""

    def __init__(self, code: str, offered: list[str]) -> None:
        super().__init__(f"{code!r} is not an offered language; offered: {', '.join(offered)}")
        self.code = code
        self.offered = offered


class NotSubscribedError(NewsbotError):
    """A subscriber's command from a chat that has no active subscription."""


class NotChatAdminError(NewsbotError):
    """A group member who is not one of its administrators tried to change the group's subscription."""


class StaleChoiceError(NewsbotError):
    """A button or a command names a subscription, story or feed that is not (or no longer) there; nothing changed."""
