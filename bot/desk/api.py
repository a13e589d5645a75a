"""The desk's and the panel's JSON, under /desk/api/. Each request stands for a command or a
button of the table (bot.turns.registry) and is served by bot.desk.gate as that entry: the
same role check, the same dialogs, refusals and audit trail as in the chat."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.desk.gate import DESK, NOTHING, Unauthorized, Where, arrival_of, serve, signer_of
from bot.turns.access import NotThisTenant, context_of
from bot.turns.posts import Post
from bot.turns.registry import Command, find, find_button
from dialogs import acknowledgement, dissemination
from dialogs.actor import gets_case_papers
from dialogs.agenda import Viewer, agenda_lines
from dialogs.desk import meeting_in, next_meetings, research_returned
from dialogs.ids import row_id
from dialogs.meeting import cases_of, open_case, slot_of
from dialogs.membership import marac_of_press
from dialogs.referrals import summary_of
from dialogs.report import build, percent, read_period
from dialogs.scheduling import local_today
from dialogs.triage import awaiting_triage
from storage.models import Agency, CaseStatus, Marac, Meeting, MeetingStatus, Referral

DEADLINE_HOURS = 48
# Each section of the desk is what its command shows in personal chat.
SECTIONS = {"triage": "triage", "agendas": "agenda", "dissemination": "dissemination",
            "actions": "my", "figures": "report"}
TRIAGE_VERBS = ("accept", "decline", "more")
ACTION_VERBS = ("acknowledge", "done", "cannot")
PANEL_COMMANDS = ("next", "back", "extend", "defer", "pause", "resume", "end")


def _entry(name: str) -> Command:
    entry = find(name)
    assert entry is not None, name
    return entry


def _button(verb: str) -> Command:
    entry = find_button(verb)
    assert entry is not None, verb
    return entry


def _marac_named(data: dict[str, Any]) -> Any:
    async def named(session: Any, _arrival: Any) -> int | None:
        return await marac_of_press(session, data)
    return named


def _chosen(request: web.Request) -> dict[str, Any]:
    marac = row_id(request.query.get("marac"))
    return {} if marac is None else {"marac": marac}


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(body: dict[str, Any], key: str, limit: int = 500) -> str:
    value = body.get(key, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


# --- who is signed in ---------------------------------------------------------------------

async def me(request: web.Request) -> web.Response:
    """Who the token names, their MARAC here and which sections of the desk their roles open.
    Not audited: it shows the person only their own roles."""
    desk = request.app[DESK]
    try:
        signer = await signer_of(request)
    except Unauthorized as refused:
        return refused.response
    arrival = arrival_of(signer, Where())
    try:
        async with desk.store.unit_of_work() as session:
            context = await context_of(session, arrival, tenants=desk.tenants,
                                       named=await marac_of_press(session, _chosen(request)))
            marac = (await session.get(Marac, context.marac_id)
                     if context.marac_id is not None else None)
            choices = (await session.execute(select(Marac.id, Marac.name).where(
                Marac.tenant_id == signer.tenant_id, Marac.name.in_(context.unnamed))
                .order_by(Marac.name))).all()
    except NotThisTenant:
        return web.json_response(NOTHING, status=401)
    roles = context.actor.roles
    return web.json_response({
        "first_name": context.actor.first_name, "known": context.actor.person_id is not None,
        "marac": {"id": marac.id, "name": marac.name} if marac else None,
        "name_one_of": [{"id": marac_id, "name": name} for marac_id, name in choices],
        "roles": sorted(role.label for role in roles),
        "sections": [section for section, command in SECTIONS.items()
                     if _entry(command).allows(roles)],
    })


# --- the desk's sections ------------------------------------------------------------------

async def triage_queue(request: web.Request) -> web.Response:
    return await serve(request, _entry("triage"), Where(), named=_marac_named(_chosen(request)),
                       act=False, view=_triage_view)


async def _triage_view(turn: Any) -> dict[str, Any]:
    waiting = await awaiting_triage(turn.session, turn.marac_id)
    agencies = {a.id: a.name for a in (await turn.session.scalars(
        select(Agency).where(Agency.marac_id == turn.marac_id))).all()}
    originals = {r.id: r.victim_reference for r in (await turn.session.scalars(
        select(Referral).where(Referral.id.in_(
            [w.duplicate_of_id for w in waiting if w.duplicate_of_id])))).all()}
    return {"referrals": [asdict(summary_of(r, agencies.get(r.referring_agency_id, "?"),
                                            originals.get(r.duplicate_of_id or 0)))
                          for r in waiting]}


async def triage_decision(request: web.Request) -> web.Response:
    verb = request.match_info["verb"]
    referral = row_id(request.match_info["referral"])
    if verb not in TRIAGE_VERBS or referral is None:
        raise web.HTTPNotFound()
    note = _text(await _body(request), "note")
    data = {"referral_id": referral, f"note_{referral}": note}
    return await serve(request, _button(f"triage.{verb}"), Where(), data=data,
                       named=_marac_named(data), view=_triage_view, subject=str(referral))


async def agendas(request: web.Request) -> web.Response:
    return await serve(request, _entry("agenda"), Where(), named=_marac_named(_chosen(request)),
                       act=False, view=_agendas_view)


async def _agendas_view(turn: Any) -> dict[str, Any]:
    session, actor = turn.session, turn.context.actor
    marac = await session.get_one(Marac, turn.marac_id)
    viewer = Viewer(actor.roles, actor.person_id)
    detailed = gets_case_papers(actor.roles)
    meetings = []
    for meeting in await next_meetings(session, marac.id, turn.clock.now()):
        returned = await research_returned(session, meeting.id) if detailed else {}
        lines = await agenda_lines(session, marac, meeting, viewer)
        meetings.append({
            "starts_at": meeting.starts_at, "status": meeting.status.value,
            "cases": [{"slot": line.slot, "starts_at": line.starts_at,
                       "number": line.case_number,
                       "first_name": "" if line.withheld else line.first_name,
                       "closed_panel": line.closed_panel, "repeat": line.repeat,
                       "breaches_target": line.breaches_target,
                       "research": [asdict(r) for r in returned.get(line.case_number, [])]}
                      for line in lines]})
    return {"marac": marac.name, "timezone": marac.timezone, "meetings": meetings}


async def dissemination_board(request: web.Request) -> web.Response:
    return await serve(request, _entry("dissemination"), Where(),
                       named=_marac_named(_chosen(request)), act=False,
                       view=_dissemination_view)


async def _dissemination_view(turn: Any) -> dict[str, Any]:
    now = turn.clock.now()
    states = await dissemination.status(turn.session, turn.marac_id, now)
    return {"plans": [{
        "number": s.number, "first_name": s.first_name, "deadline_at": s.deadline_at,
        "hours_left": _hours_left(s.deadline_at, now), "delivered_at": s.delivered_at,
        "state": _board_state(s, now),
        "agencies": [{"agency": a.agency, "state": a.state, "detail": a.detail}
                     for a in s.agencies]} for s in states]}


def _hours_left(deadline: datetime | None, now: datetime) -> float | None:
    return None if deadline is None else round((deadline - now).total_seconds() / 3600, 1)


def _board_state(state: dissemination.CaseState, now: datetime) -> str:
    """Against the 48 hours: sent, on time, at risk (past 36 hours), late."""
    if not state.undelivered:
        late = (state.deadline_at and state.delivered_at
                and state.delivered_at > state.deadline_at)
        return "sent late" if late else "sent"
    hours = _hours_left(state.deadline_at, now)
    if hours is None or hours > DEADLINE_HOURS - 36:
        return "on time"
    return "at risk" if hours > 0 else "late"


async def my_actions(request: web.Request) -> web.Response:
    return await serve(request, _entry("my"), Where(), named=_marac_named(_chosen(request)),
                       act=False, view=_actions_view)


async def _actions_view(turn: Any) -> dict[str, Any]:
    person_id = turn.context.actor.person_id
    actions = await acknowledgement.open_actions(turn.session, person_id, turn.marac_id)
    return {"actions": [{**asdict(a), "status": a.status.value,
                         "awaits_acknowledgement": a.awaits_acknowledgement} for a in actions]}


async def action_answer(request: web.Request) -> web.Response:
    verb = request.match_info["verb"]
    follow_up = row_id(request.match_info["follow_up"])
    if verb not in ACTION_VERBS or follow_up is None:
        raise web.HTTPNotFound()
    body = await _body(request)
    key = "reason" if verb == "cannot" else "note"
    data = {"follow_up": follow_up, key: _text(body, key)}
    return await serve(request, _button(f"action.{verb}"), Where(), data=data,
                       named=_marac_named(data), view=_actions_view, subject=str(follow_up))


async def figures(request: web.Request) -> web.Response:
    """The `report` card's headline figures; `?period=` as `report PERIOD` takes it."""
    return await serve(request, _entry("report"), Where(), named=_marac_named(_chosen(request)),
                       arguments=request.query.get("period", "")[:40], act=False,
                       view=_figures_view)


async def _figures_view(turn: Any) -> dict[str, Any]:
    marac = await turn.session.get_one(Marac, turn.marac_id)
    now = turn.clock.now()
    report = await build(turn.session, marac.id, read_period(turn.arguments,
                                                             local_today(marac, now)), now)
    timeliness, sent = report.timeliness, report.dissemination
    return {
        "period": report.period.label, "cases_heard": report.cases_heard,
        "repeats": report.repeats, "referrals": report.referral_count,
        "police_referrals": report.police_referrals,
        "within_target": percent(timeliness.within, timeliness.heard),
        "target_working_days": report.target_working_days,
        "median_working_days": timeliness.median_working_days,
        "plans_on_time": percent(sent.on_time, sent.plans),
        "median_hours": sent.median_hours,
        "by_month": [{"month": month, "within": within, "heard": heard}
                     for month, within, heard in timeliness.by_month],
        "by_agency": [{"agency": agency, "referrals": count}
                      for agency, count in report.referrals],
    }


# --- the meeting's side panel ---------------------------------------------------------------

def _panel_place(request: web.Request) -> Where:
    where = Where.of_panel(request.query)
    if where is None:
        raise web.HTTPBadRequest(text="Open the panel in a meeting.")
    return where


async def panel(request: web.Request) -> web.Response:
    """Audited when the panel opens (`?opening=1`); its polls every second are not, or the
    audit trail would hold a row a second for each person in the meeting."""
    return await serve(request, _entry("agenda"), _panel_place(request), act=False,
                       view=_panel_view, audited=request.query.get("opening") == "1")


async def _panel_view(turn: Any) -> dict[str, Any]:
    """What may be on a shared screen: case numbers, first names (none for a closed-panel
    case) and the slot clock."""
    session, now = turn.session, turn.clock.now()
    marac = await session.get_one(Marac, turn.marac_id)
    meeting = await meeting_in(session, turn.arrival.place, marac.id)
    chairs = _entry("next").allows(turn.context.actor.roles)
    if meeting is None:
        upcoming = await next_meetings(session, marac.id, now, 1)
        return {"marac": marac.name, "running": False, "chairs": chairs,
                "starts_at": upcoming[0].starts_at if upcoming else None,
                "cases": await _panel_cases(session, marac, upcoming[0]) if upcoming else []}
    case = await open_case(session, meeting)
    clock = None
    if case is not None:
        slot = slot_of(marac, meeting, case, now)
        clock = {"number": case.number,
                 "first_name": "" if case.closed_panel else case.victim_first_name,
                 "length": slot.length, "remaining": slot.remaining, "overrun": slot.overrun,
                 "warning": 0 <= slot.remaining <= marac.warning_seconds}
    return {"marac": marac.name, "running": True, "chairs": chairs,
            "paused": meeting.status is MeetingStatus.PAUSED, "starts_at": meeting.starts_at,
            "current": clock, "cases": await _panel_cases(session, marac, meeting)}


async def _panel_cases(session: Any, marac: Marac, meeting: Meeting) -> list[dict[str, Any]]:
    lines = {line.case_number: line for line in await agenda_lines(session, marac, meeting)}
    return [{"number": case.number,
             "first_name": "" if case.closed_panel else case.victim_first_name,
             "starts_at": lines[case.number].starts_at if case.number in lines else None,
             "status": case.status.value, "current": case.status is CaseStatus.OPEN}
            for case in await cases_of(session, meeting)]


async def panel_command(request: web.Request) -> web.Response:
    name = request.match_info["command"]
    if name not in PANEL_COMMANDS:
        raise web.HTTPNotFound()
    body = await _body(request)
    arguments = {"extend": str(body.get("minutes", "")).strip()[:20],
                 "defer": _text(body, "reason")}.get(name, "")
    where = _panel_place(request)
    answered: list[Post] = []

    async def keep(_turn: Any, posts: Any) -> None:
        answered.extend(posts if isinstance(posts, list) else [Post(posts)])

    response = await serve(request, _entry(name), where, arguments=arguments,
                           view=_panel_view, after=keep)
    if answered:  # once the change is committed, in the meeting's chat, as if typed there
        await request.app[DESK].poster.post(where.conversation, answered,
                                            request.app[DESK].clock.now())
    return response


def routes(app: web.Application) -> None:
    app.router.add_get("/desk/api/me", me)
    app.router.add_get("/desk/api/triage", triage_queue)
    app.router.add_post("/desk/api/triage/{referral}/{verb}", triage_decision)
    app.router.add_get("/desk/api/agendas", agendas)
    app.router.add_get("/desk/api/dissemination", dissemination_board)
    app.router.add_get("/desk/api/actions", my_actions)
    app.router.add_get("/desk/api/figures", figures)
    app.router.add_post("/desk/api/actions/{follow_up}/{verb}", action_answer)
    app.router.add_get("/desk/api/panel", panel)
    app.router.add_post("/desk/api/panel/{command}", panel_command)

