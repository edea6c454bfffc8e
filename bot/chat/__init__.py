"""The Telegram front-end (python-telegram-bot): handlers, replies, the outbox sender, the Application's wiring.
The only package that imports telegram."""
