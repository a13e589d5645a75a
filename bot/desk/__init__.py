"""The coordinator's desk (a Teams personal tab) and the chair's meeting side panel: pages
served by the bot's own aiohttp app, whose JSON requests go through the same table, dialogs,
refusals and audit trail as the chat (bot.desk.gate)."""
