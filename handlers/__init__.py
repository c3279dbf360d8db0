"""The bot's conversations, one module each (see docs/architecture.md); built in bot/app.py."""
