"""For the people who run the bot: the console commands, `marac dev`, Microsoft's Teams
Playground and the Teams app package."""
