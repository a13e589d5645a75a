"""A turn's way through the bot: the table of commands and buttons (registry), who is acting
and whether the table lets them (access), the one pipeline, and the turn's own types."""
