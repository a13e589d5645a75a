"""The MARAC process itself, as plain async functions over a unit of work.

Nothing here imports botbuilder or builds card JSON: the edge (bot/) calls in with an actor
and gets results back, which cards/ turns into Adaptive Cards.
"""
