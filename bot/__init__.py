"""newsbot: the application (feeds, store, service, chat, CLI). The language engine lives in `summarizer`."""

__version__ = "0.1.0"
