"""What the bot sends on its own: the timers that queue it, the outbox that delivers it, and
mail through Microsoft Graph."""
