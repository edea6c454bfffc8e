"""What the bot shows, as Telegram HTML: pure functions of data in, message parts of at most 4,096 characters out.
Never sends and never imports telegram or the store; the front-ends and the outbox send what it makes."""
