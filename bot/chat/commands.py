"""The bot's commands as Telegram shows them in its menu (setMyCommands) and /help lists them."""

from __future__ import annotations

from bot.i18n import N_, Texts

# (command, description); descriptions are gettext messages, shown in the subscriber's language.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Subscribe to the news digest")),
    ("digest", N_("The news you have not seen, now")),
    ("lang", N_("Your language, e.g. /lang de")),
    ("schedule", N_("Digest times, e.g. /schedule 07:30 Europe/Rome")),
    ("topics", N_("Only stories about these, e.g. /topics OpenAI, chips")),
    ("ask", N_("Ask about the stored news, e.g. /ask Who bought what?")),
    ("trends", N_("What the news talks about this week, as a chart")),
    ("sources", N_("The feeds and their languages")),
    ("stop", N_("Unsubscribe")),
    ("help", N_("What I can do")),
)


def menu(t: Texts) -> list[tuple[str, str]]:
    return [(command, t(description)) for command, description in COMMANDS]


def help_text(t: Texts) -> str:
    lines = [t("I send a digest of AI-industry news in your language, summarized from many sources."), ""]
    lines += [f"/{command} — {t(description)}" for command, description in COMMANDS]
    return "\n".join(lines)
