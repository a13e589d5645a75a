"""The chair's commands in the meeting's channel or chat: start, next, back, extend, defer,
pause, resume, exceptional, standin, end."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.proactive import outbox
from bot.turns.posts import Post, keep_attendance_card, keep_case_card
from bot.turns.registry import CHAIRS, MANAGERS, MEETING_PLACES, command
from bot.turns.replies import card_reply, text_reply
from bot.turns.request import Request
from bot.views.meeting import attendance_view, case_card_view
from cards.agenda import agenda_card
from cards.meeting import summary_card
from dialogs import meeting as run
from dialogs.agenda import Agenda, agenda_lines
from dialogs.attendance_record import PERSISTENT, persistently_absent
from dialogs.meeting import MeetingError
from dialogs.meeting_record import summarise
from dialogs.people import people_with, person_named
from storage.models import Marac, Role


@command("start", "Open the meeting: the agenda and the attendance card.", "start",
         roles=CHAIRS, places=MEETING_PLACES)
async def _start(request: Request) -> list[Post]:
    return await start_posts(request.session, request.marac_id,
                             request.arrival.place, request.context.actor.person_id,
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


@command("next", "Close this case's planning and open the next case.", "next",
         roles=CHAIRS, places=MEETING_PLACES, checks_first=True)
async def _next(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting, marac, responsible = await run.meeting_with_responsible(
        session, request.arrival.place, request.marac_id)
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
        posts.append(Post(card_reply(await case_card_view(session, marac, meeting, opened, now),
                                     f"Case {opened.number}"), keep_case_card(opened.id)))
    return posts


@command("back", "Reopen the case heard before this one.", "back",
         roles=CHAIRS, places=MEETING_PLACES, menu=False)
async def _back(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, request.arrival.place, request.marac_id)
    case = await run.go_back(session, meeting, now)
    marac = await session.get_one(Marac, meeting.marac_id)
    return [Post(text_reply(f"Back to {case.number}.")),
            Post(card_reply(await case_card_view(session, marac, meeting, case, now),
                            f"Case {case.number}"), keep_case_card(case.id))]


@command("extend", "Give the open case more minutes.", "extend MINUTES",
         roles=CHAIRS, places=MEETING_PLACES, menu=False)
async def _extend(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, request.arrival.place, request.marac_id)
    words = request.arguments.split()
    if len(words) != 1 or not words[0].isdigit():
        raise MeetingError("Say how many minutes, e.g. **extend 5**.")
    marac = await session.get_one(Marac, meeting.marac_id)
    case = await run.extend(session, meeting, marac, int(words[0]), now)
    return [Post(text_reply(f"{case.number} has {words[0]} more minutes."))]


@command("defer", "Move the open case to the next meeting, with the reason.",
         "defer REASON",
         roles=CHAIRS, places=MEETING_PLACES, menu=False)
async def _defer(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, request.arrival.place, request.marac_id)
    marac = await session.get_one(Marac, meeting.marac_id)
    case, later = await run.defer(session, meeting, marac, request.arguments, now)
    when = later.starts_at.astimezone(ZoneInfo(marac.timezone)).strftime("%A %d %B")
    return [Post(text_reply(f"{case.number} is deferred to the meeting on {when}: "
                            f"{case.deferred_reason}. The chair opens the next case with "
                            "**next**."))]


@command("pause", "Pause the meeting and its slot clock.", "pause",
         roles=CHAIRS, places=MEETING_PLACES, menu=False)
async def _pause(request: Request) -> list[Post]:
    meeting = await run.must_be_under_way(request.session, request.arrival.place, request.marac_id)
    run.pause(meeting, request.clock.now())
    return [Post(text_reply("The meeting is paused; the slot clock has stopped."))]


@command("resume", "Resume the meeting.", "resume",
         roles=CHAIRS, places=MEETING_PLACES, menu=False)
async def _resume(request: Request) -> list[Post]:
    meeting = await run.must_be_under_way(request.session, request.arrival.place, request.marac_id)
    await run.resume(request.session, meeting, request.clock.now())
    return [Post(text_reply("The meeting has resumed."))]


@command("exceptional", "Mark the open case exceptional: death, or moved out of area.",
         "exceptional death/moved NOTE",
         roles=CHAIRS, places=MEETING_PLACES, menu=False)
async def _exceptional(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, request.arrival.place, request.marac_id)
    kind, _, note = request.arguments.strip().partition(" ")
    case = await run.mark_exceptional(session, meeting, kind.lower(), note, now)
    return [Post(text_reply(f"{case.number} is exceptional ({run.EXCEPTIONS[case.exceptional]})"
                            ": its information is recorded and no actions are planned."))]


@command("standin", "Name who may advance the agenda for you.", "standin FIRSTNAME",
         roles=CHAIRS, places=MEETING_PLACES, menu=False)
async def _standin(request: Request) -> list[Post]:
    session = request.session
    meeting = await run.must_be_under_way(session, request.arrival.place, request.marac_id)
    person = await person_named(session, meeting.marac_id, request.arguments)
    meeting.stand_in_person_id = person.id
    return [Post(text_reply(f"{person.first_name} may now advance the agenda for the chair."))]


@command("admit", "Admit someone to the open closed-panel case.", "admit FIRSTNAME",
         roles=CHAIRS, places=MEETING_PLACES, menu=False)
async def _admit(request: Request) -> list[Post]:
    session = request.session
    meeting = await run.must_be_under_way(session, request.arrival.place, request.marac_id)
    case = await run.open_case(session, meeting)
    if case is None or not case.closed_panel:
        raise MeetingError("Admit people while a closed-panel case is open.")
    person = await person_named(session, meeting.marac_id, request.arguments)
    if person.id not in case.admitted_person_ids:
        case.admitted_person_ids = [*case.admitted_person_ids, person.id]
    return [Post(text_reply(f"{person.first_name} is admitted to {case.number}."))]


@command("decide", "Decide on a declaration of knowing someone in a case.",
         "decide CASE DECISION", roles=MANAGERS, menu=False)
async def _decide(request: Request) -> list[Post]:
    number, _, decision = request.arguments.strip().partition(" ")
    if not decision.strip():
        raise MeetingError("Say the case and the decision, e.g. **decide RIV-2026-001 the "
                           "declarant leaves the room for this case**.")
    case = await run.decide_declaration(request.session, request.marac_id, number,
                                        decision, request.clock.now())
    return [Post(text_reply(f"Your decision on {case.number} is recorded."))]


@command("end", "Close the meeting and post its summary.", "end",
         roles=CHAIRS, places=MEETING_PLACES)
async def _end(request: Request) -> list[Post]:
    session, now = request.session, request.clock.now()
    meeting = await run.must_be_under_way(session, request.arrival.place, request.marac_id)
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
