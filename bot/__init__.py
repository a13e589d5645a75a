"""The Teams edge of the MARAC bot: the aiohttp server, botbuilder, command routing."""
