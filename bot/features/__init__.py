"""One module per MARAC word, each declaring its commands and buttons beside their code
(bot.turns.registry). Imported in this order, which is the order of `help`, the README's
table and the Teams app manifest's command lists."""

import importlib

FEATURES = ("help", "agenda", "referrals", "triage", "police_feed", "circulation",
            "research", "apologies", "exceptional", "registration", "people", "meeting",
            "meeting_actions", "carry", "plans", "hub", "transfers", "governance",
            "subject_access", "report")

for _feature in FEATURES:
    importlib.import_module(f"{__name__}.{_feature}")
