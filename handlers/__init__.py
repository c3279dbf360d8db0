"""The bot's conversations, one module each (see DESIGN.md); built in bot/app.py."""
