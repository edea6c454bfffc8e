"""`python -m bot ...` is `newsbot ...`."""

from bot.cli import app

app(prog_name="newsbot")
