"""SQL statements per meeting press (issue 21): one attendance confirmation, one action added
and one `next`, served by the bot's own pipeline in this process on a database of the kind
measured (a MARAC seeded apart from those the servers use), each statement counted by an
SQLAlchemy event listener, as tests/store/test_meeting_press_statements.py counts them."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from sqlalchemy import event

from bench import activities
from bench import clock as bench_clock
from bench.seeding import seed
from bot.teams.conversation import arrival_of
from bot.turns.pipeline import handle_message, handle_press
from bot.turns.press import read_invoke
from dialogs.clock import Clock, SetClock
from storage.database import Store

NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK")
FAR = 9000  # the seeded MARAC's number: clear of the benchmark's own (bench.seeding)


async def per_press(url: str, service_url: str) -> dict[str, int]:
    """Statements of each kind of press, on the database at `url`."""
    clock = SetClock(bench_clock.clock_file())
    store = Store.from_url(url)
    try:
        meeting = (await seed(store, 1, clock.now(), service_url, first=FAR))[0]
        member = meeting.representatives[0]
        presses = {
            "attendance": activities.confirm_attendance(meeting, member, service_url),
            "action": activities.add_action(meeting, member, meeting.cases[0], 0, service_url),
            "next": activities.command(meeting, meeting.chair, "next", service_url)}
        return {kind: await _counted(store, clock, activity)
                for kind, activity in presses.items()}
    finally:
        await store.close()


async def _counted(store: Store, clock: Clock, body: dict[str, Any]) -> int:
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(NOT_COUNTED):
            sent.append(statement)

    activity = Activity().deserialize(body)
    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        if activity.type == "invoke":
            invoke = read_invoke(activity.name, activity.value)
            assert invoke is not None
            await handle_press(arrival_of(activity), invoke, store, clock)
        else:
            await handle_message(arrival_of(activity), store, clock)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)
