"""The bot's commands as Telegram shows them in its menu (setMyCommands) and /help lists them; an admin's menu and
/help add the admin commands."""

from __future__ import annotations

from bot.i18n import N_, Texts

# (command, description); descriptions are gettext messages, shown in the subscriber's language.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Subscribe to the news digest")),
    ("digest", N_("The news you have not seen, now")),
    ("lang", N_("Your language, e.g. /lang de")),
    ("schedule", N_("Digest times, e.g. /schedule 07:30 Europe/Rome")),
    ("topics", N_("Only stories about these, none with a -word, e.g. /topics OpenAI, chips, -crypto")),
    ("ask", N_("Ask about the stored news, e.g. /ask Who bought what?")),
    ("trends", N_("What the news talks about this week, as a chart")),
    ("summarize", N_("A web page summarized in your language, e.g. /summarize https://example.com/story")),
    ("sources", N_("The feeds and their languages")),
    ("stop", N_("Unsubscribe")),
    ("help", N_("What I can do")),
)

# For NEWSBOT_ADMIN_IDS, in their private chat with the bot.
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("feeds", N_("The feeds and their state, e.g. /feeds 2 for the second page")),
    ("addfeed", N_("Add a feed, e.g. /addfeed https://example.com/feed.xml")),
    ("rmfeed", N_("Remove a feed by its number, e.g. /rmfeed 3")),
    ("pausefeed", N_("Stop polling a feed for now, e.g. /pausefeed 3")),
    ("resumefeed", N_("Poll a paused feed again, e.g. /resumefeed 3")),
    ("health", N_("The last poll, failing feeds, backlogs and models")),
    ("subs", N_("The subscribers; /subs add @channel sends the digest to a channel")),
)


def menu(t: Texts, *, admin: bool = False) -> list[tuple[str, str]]:
    return [(command, t(description)) for command, description in COMMANDS + (ADMIN_COMMANDS if admin else ())]


def help_text(t: Texts, *, admin: bool = False) -> str:
    lines = [t("I send a digest of AI-industry news in your language, summarized from many sources."), ""]
    lines += [f"/{command} — {t(description)}" for command, description in COMMANDS]
    if admin:
        lines += ["", t("For the bot's administrators:")]
        lines += [f"/{command} — {t(description)}" for command, description in ADMIN_COMMANDS]
    return "\n".join(lines)
