"""The chair's commands in the meeting's channel or chat: start, next, back, extend, defer,
pause, resume, exceptional, standin, end."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.conversation import meeting_place
from bot.meeting_views import attendance_view, case_card_view
from bot.posts import Post, keep_attendance_card, keep_case_card
from bot.replies import card_reply, text_reply
from bot.request import CommandHandler, Request
from cards.agenda import agenda_card
from cards.meeting import summary_card
from dialogs import meeting as run
from dialogs.agenda import Agenda, agenda_lines
from dialogs.attendance_record import PERSISTENT, persistently_absent
from dialogs.meeting import MeetingError
from dialogs.meeting_record import summarise
from dialogs.people import people_with
from storage.models import Marac, Person, Role, RoleGrant


async def _start(request: Request) -> list[Post]:
    return await start_posts(request.session, request.marac_id,
                             meeting_place(request.activity), request.context.actor.person_id,
                             request.clock.now())


async def start_posts(session: AsyncSession, marac_id: int, place: str,
                      chair_person_id: int | None, now: datetime) -> list[Post]:
    """Open the meeting here (the chair's `start`, or Teams' meeting-start event)."""
    meeting, new = await run.start(session, marac_id, place, chair_person_id, now)
    marac = await session.get_one(Marac, marac_id)
    if not new:
        return [Post(text_reply("The meeting is already running here."))]
    agenda = Agenda(marac.name, meeting.starts_at, await agenda_lines(session, marac, meeting))
    return [Post(card_reply(agenda_card(agenda), "Agenda")),
            Post(card_reply(await attendance_view(session, marac, meeting), "Attendance"),
                 keep_attendance_card(meeting.id)),
            Post(text_reply("The meeting is open. The chair opens the first case with "
                            "**next**."))]


async def _next(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, meeting_place(request.activity))
    responsible = await run.responsible_names(session, meeting)
    closed, opened = await run.advance(session, meeting, responsible, now)
    posts = []
    if closed is not None:
        posts.append(Post(text_reply(f"Planning for {closed.number} is closed; the plan is the "
                                     f"collective responsibility of {len(responsible)} "
                                     "people present.")))
    if opened is None:
        posts.append(Post(text_reply("That was the last case; the chair can **end** the "
                                     "meeting.")))
    else:
        marac = await session.get_one(Marac, meeting.marac_id)
        posts.append(Post(card_reply(await case_card_view(session, marac, meeting, opened, now),
                                     f"Case {opened.number}"), keep_case_card(opened.id)))
    return posts


async def _back(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, meeting_place(request.activity))
    case = await run.go_back(session, meeting, now)
    marac = await session.get_one(Marac, meeting.marac_id)
    return [Post(text_reply(f"Back to {case.number}.")),
            Post(card_reply(await case_card_view(session, marac, meeting, case, now),
                            f"Case {case.number}"), keep_case_card(case.id))]


async def _extend(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, meeting_place(request.activity))
    words = request.arguments.split()
    if len(words) != 1 or not words[0].isdigit():
        raise MeetingError("Say how many minutes, e.g. **extend 5**.")
    marac = await session.get_one(Marac, meeting.marac_id)
    case = await run.extend(session, meeting, marac, int(words[0]), now)
    return [Post(text_reply(f"{case.number} has {words[0]} more minutes."))]


async def _defer(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, meeting_place(request.activity))
    marac = await session.get_one(Marac, meeting.marac_id)
    case, later = await run.defer(session, meeting, marac, request.arguments, now)
    when = later.starts_at.astimezone(ZoneInfo(marac.timezone)).strftime("%A %d %B")
    return [Post(text_reply(f"{case.number} is deferred to the meeting on {when}: "
                            f"{case.deferred_reason}. The chair opens the next case with "
                            "**next**."))]


async def _pause(request: Request) -> list[Post]:
    meeting = await run.must_be_under_way(request.session, meeting_place(request.activity))
    run.pause(meeting, request.clock.now())
    return [Post(text_reply("The meeting is paused; the slot clock has stopped."))]


async def _resume(request: Request) -> list[Post]:
    meeting = await run.must_be_under_way(request.session, meeting_place(request.activity))
    await run.resume(request.session, meeting, request.clock.now())
    return [Post(text_reply("The meeting has resumed."))]


async def _exceptional(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, meeting_place(request.activity))
    kind, _, note = request.arguments.strip().partition(" ")
    case = await run.mark_exceptional(session, meeting, kind.lower(), note, now)
    return [Post(text_reply(f"{case.number} is exceptional ({run.EXCEPTIONS[case.exceptional]})"
                            ": its information is recorded and no actions are planned."))]


async def _standin(request: Request) -> list[Post]:
    session = request.session
    meeting = await run.must_be_under_way(session, meeting_place(request.activity))
    person = await _person_named(session, meeting.marac_id, request.arguments.strip())
    meeting.stand_in_person_id = person.id
    return [Post(text_reply(f"{person.first_name} may now advance the agenda for the chair."))]


async def _admit(request: Request) -> list[Post]:
    session = request.session
    meeting = await run.must_be_under_way(session, meeting_place(request.activity))
    case = await run.open_case(session, meeting)
    if case is None or not case.closed_panel:
        raise MeetingError("Admit people while a closed-panel case is open.")
    person = await _person_named(session, meeting.marac_id, request.arguments.strip())
    if person.id not in case.admitted_person_ids:
        case.admitted_person_ids = [*case.admitted_person_ids, person.id]
    return [Post(text_reply(f"{person.first_name} is admitted to {case.number}."))]


async def _decide(request: Request) -> list[Post]:
    number, _, decision = request.arguments.strip().partition(" ")
    if not decision.strip():
        raise MeetingError("Say the case and the decision, e.g. **decide RIV-2026-001 the "
                           "declarant leaves the room for this case**.")
    case = await run.decide_declaration(request.session, request.marac_id, number,
                                        decision, request.clock.now())
    return [Post(text_reply(f"Your decision on {case.number} is recorded."))]


async def _person_named(session: AsyncSession, marac_id: int, first_name: str) -> Person:
    people = (await session.scalars(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.marac_id == marac_id,
               func.lower(Person.first_name) == first_name.lower()).distinct())).all()
    if len(people) != 1:
        raise MeetingError(f"Name one person of this MARAC by first name, e.g. **standin "
                           f"Priya**; '{first_name}' matches {len(people)}.")
    return people[0]


async def _end(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, meeting_place(request.activity))
    await run.end(session, meeting, await run.responsible_names(session, meeting), now)
    marac = await session.get_one(Marac, meeting.marac_id)
    await _report_non_attendance(session, marac, now)
    return [Post(card_reply(summary_card(marac.name, await summarise(session, marac, meeting,
                                                                     now)),
                            "Meeting closed"))]


async def _report_non_attendance(session: AsyncSession, marac: Marac, now: datetime) -> None:
    absent = await persistently_absent(session, marac.id)
    if not absent:
        return
    note = text_reply(f"{' and '.join(absent)} sent no one to the last {PERSISTENT} meetings "
                      f"of the {marac.name}, today's included: persistent non-attendance, to "
                      "be taken up with the agency.", "Persistent non-attendance")
    for manager in await people_with(session, marac.id, (Role.OPERATIONS_MANAGER,)):
        outbox.enqueue(session, note, "non-attendance", now, person_id=manager)


async def _guarded(handler: CommandHandler, request: Request) -> list[Post]:
    """A chair command that cannot be done now answers why in one sentence; nothing changes."""
    nested = await request.session.begin_nested()
    try:
        reply = await handler(request)
    except MeetingError as refused:
        await nested.rollback()
        return [Post(text_reply(str(refused)))]
    await nested.commit()
    return reply if isinstance(reply, list) else [Post(reply)]


def _chair(handler: CommandHandler) -> CommandHandler:
    async def run_guarded(request: Request) -> list[Post]:
        return await _guarded(handler, request)
    return run_guarded


MEETING_HANDLERS: dict[str, CommandHandler] = {
    name: _chair(handler) for name, handler in {
        "start": _start, "next": _next, "back": _back, "extend": _extend, "defer": _defer,
        "pause": _pause, "resume": _resume, "exceptional": _exceptional, "standin": _standin,
        "end": _end, "admit": _admit, "decide": _decide,
    }.items()
}
