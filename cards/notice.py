"""Plain-sentence replies: refusals, unknown commands, errors. Text, not cards."""

from __future__ import annotations

SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side and nothing was changed; please try again, "
    "and tell your MARAC coordinator if it keeps happening."
)


def unknown_command(typed: str, suggestion: str) -> str:
    if suggestion == "help":
        return f"I don't know the command '{typed}'. Type **help** to see what you can do."
    return (f"I don't know the command '{typed}'. Did you mean **{suggestion}**? "
            "Type **help** to see what you can do.")


def not_allowed(command: str, roles_needed: list[str]) -> str:
    if len(roles_needed) > 3:
        who = "someone with a role in this MARAC"
    else:
        who = " or ".join(roles_needed)
        who = f"{'an' if who[0] in 'aeiou' else 'a'} {who} of this MARAC"
    return f"Only {who} can use '{command}'; ask your coordinator if you need it."


def observers_excluded(command: str) -> str:
    return (f"Observers do not receive case papers, so '{command}' is not open to you; "
            "ask your coordinator if you need more.")


def not_here(command: str, places: list[str]) -> str:
    return f"'{command}' can only be used in a {' or '.join(places)}."


def name_the_marac(command: str, maracs: tuple[str, ...]) -> str:
    return (f"You serve several MARACs ({', '.join(maracs)}): add the one you mean after "
            f"'{command}', e.g. **{command} {maracs[0]}**.")


def not_set_up() -> str:
    return ("This conversation is not registered to a MARAC, so I can't show MARAC "
            "business here; a MARAC coordinator can register it by typing **register** here.")


def not_registered_here() -> str:
    return ("I am not set up in this conversation and keep nothing from it; a MARAC "
            "coordinator can register it by typing **register** here.")


def not_known_to_a_marac() -> str:
    return ("I am not set up for you and keep nothing from this chat; ask your MARAC "
            "coordinator to add you.")


def not_this_tenant() -> str:
    return "This MARAC bot is not set up for your organisation, so I can't help here."


def unknown_button() -> str:
    return "That button is no longer in use; type **help** to start again."
