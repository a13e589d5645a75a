"""Pure functions from a dialog's result to Adaptive Card JSON (version 1.5, for Teams)."""
