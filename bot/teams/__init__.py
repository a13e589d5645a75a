"""Microsoft Teams and the Bot Framework: the aiohttp app, the adapter and its connector,
pacing, reading and writing activities, file consent and meeting notifications."""
