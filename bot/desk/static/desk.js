// The coordinator's desk: what each person's roles open, in the MARAC they act in. Every
// change is a call to the same button the chat's cards carry (bot.desk.api).
import { call, element as el, followTheme, say, when } from "/desk/static/common.js";

const marac = new URLSearchParams(location.search).get("marac");
const scoped = (path) => (marac ? `${path}?marac=${encodeURIComponent(marac)}` : path);
const SECTIONS = {
  triage: ["Triage", triage], agendas: ["Agendas", agendas],
  dissemination: ["Dissemination", disseminationBoard], actions: ["My actions", myActions],
  figures: ["Figures", figures],
};
let shown = [];

function noteField(id, label) {
  return el("label", { class: "note", for: id }, label, el("input", { type: "text", id, maxlength: "500" }));
}

function button(text, label, onclick, accent = false) {
  return el("fluent-button", { appearance: accent ? "accent" : "outline", "aria-label": label, onclick }, text);
}

async function act(path, body) {
  try {
    await call(path, body);
    say("Done.");
  } catch (refused) {
    say(refused.message);
  }
  await refresh();
}

function table(caption, headings, rows, empty) {
  if (!rows.length) return el("p", { class: "muted" }, empty);
  return el("table", {}, el("caption", {}, caption),
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
}

async function triage() {
  const { referrals } = await call(scoped("/desk/api/triage"));
  return table("Referrals waiting for triage", ["Referral", "Received", "DASH", "Why heard", "Decide"],
    referrals.map((r) => {
      const note = `note-${r.id}`;
      const path = (verb) => `/desk/api/triage/${r.id}/${verb}`;
      const noted = (verb) => () => act(path(verb), { note: document.getElementById(note).value });
      return el("tr", {},
        el("th", { scope: "row" }, `${r.victim_first_name} (${r.victim_reference})`,
          el("div", { class: "muted" }, r.agency)),
        el("td", {}, r.received_on),
        el("td", {}, `${r.dash_yes_count} of 24`),
        el("td", {}, r.qualifying_reasons.map((reason) => reason.replaceAll("_", " ")).join("; ") || r.decision_explanation,
          r.information_answer ? el("div", { class: "muted" }, `Answer: ${r.information_answer}`) : null),
        el("td", {}, el("div", { class: "row-actions" },
          button("Accept", `Accept ${r.victim_reference}`, () => act(path("accept"), {}), true),
          noteField(note, `Reason or question for ${r.victim_reference}`),
          button("Decline", `Decline ${r.victim_reference}`, noted("decline")),
          button("More information", `More information on ${r.victim_reference}`, noted("more")))));
    }), "No referral is waiting for triage.");
}

async function agendas() {
  const { meetings } = await call(scoped("/desk/api/agendas"));
  if (!meetings.length) return el("p", { class: "muted" }, "No meeting is coming up.");
  return meetings.map((m) => el("div", {},
    el("h3", {}, `Meeting on ${when(m.starts_at)}`),
    table(`Agenda of the meeting on ${when(m.starts_at)}`, ["Slot", "Case", "Research returned"],
      m.cases.map((c) => el("tr", {},
        el("td", {}, when(c.starts_at, { weekday: undefined, day: undefined, month: undefined })),
        el("th", { scope: "row" }, `${c.number} ${c.first_name}`,
          c.closed_panel ? el("div", { class: "muted" }, "Closed panel") : null,
          c.repeat ? el("div", { class: "muted" }, "Repeat") : null,
          c.breaches_target ? el("div", { class: "breach" }, "Breaches 14 working days") : null),
        el("td", {}, c.research.length
          ? c.research.map((r) => `${r.agency}${r.late ? " (late)" : ""}`).join(", ")
          : el("span", { class: "muted" }, "None yet")))),
      "No case is listed yet.")));
}

async function disseminationBoard() {
  const { plans } = await call(scoped("/desk/api/dissemination"));
  return table("Plans going out, against the 48 hours", ["Case", "State", "Time left", "Agencies"],
    plans.map((p) => el("tr", {},
      el("th", { scope: "row" }, `${p.number} ${p.first_name}`),
      el("td", { class: p.state.replace(" ", "-") }, p.state),
      el("td", {}, p.hours_left === null ? "" : p.hours_left > 0 ? `${p.hours_left} hours` : "Past 48 hours"),
      el("td", {}, p.agencies.map((a) => el("div", {}, `${a.agency}: ${a.state}`, a.detail ? ` (${a.detail})` : ""))))),
    "No plan is going out.");
}

async function myActions() {
  const { actions } = await call(scoped("/desk/api/actions"));
  return table("Your open actions", ["Case", "Action", "Due", "Answer"],
    actions.map((a) => {
      const note = `action-note-${a.follow_up_id}`;
      const path = (verb) => `/desk/api/actions/${a.follow_up_id}/${verb}`;
      const text = () => document.getElementById(note).value;
      return el("tr", {},
        el("th", { scope: "row" }, `${a.case_number} ${a.victim_first_name}`, el("div", { class: "muted" }, a.agency)),
        el("td", {}, a.description, el("div", { class: "muted" }, `For ${a.for_whom}; status ${a.status}`)),
        el("td", {}, a.due_on || ""),
        el("td", {}, el("div", { class: "row-actions" },
          a.awaits_acknowledgement
            ? button("Acknowledge", `Acknowledge the action on ${a.case_number}`, () => act(path("acknowledge"), { note: "" }), true)
            : null,
          noteField(note, `Note or reason for ${a.case_number}`),
          button("Done", `Done: the action on ${a.case_number}`, () => act(path("done"), { note: text() })),
          button("Cannot complete", `Cannot complete the action on ${a.case_number}`,
            () => act(path("cannot"), { reason: text() })))));
    }), "You have no open actions.");
}

function bar(value, most, label) {
  return el("meter", { min: "0", max: String(Math.max(most, 1)), value: String(value), "aria-label": label });
}

async function figures() {
  const f = await call(scoped("/desk/api/figures"));
  const share = (p) => (p === null ? "none yet" : `${Math.round(p)} %`);
  const most = Math.max(0, ...f.by_month.map((m) => m.heard), ...f.by_agency.map((a) => a.referrals));
  return [
    el("p", {}, `${f.period}: ${f.cases_heard} cases heard (${f.repeats} repeats) from ${f.referrals} referrals, `
      + `${f.police_referrals} by the police; heard within ${f.target_working_days} working days: ${share(f.within_target)}; `
      + `plans sent within 48 hours: ${share(f.plans_on_time)}.`),
    table("Cases heard by month, and how many within the target", ["Month", "Heard", "Within target"],
      f.by_month.map((m) => el("tr", {}, el("th", { scope: "row" }, m.month),
        el("td", {}, bar(m.heard, most, `${m.heard} heard in ${m.month}`), ` ${m.heard}`),
        el("td", {}, bar(m.within, most, `${m.within} within target in ${m.month}`), ` ${m.within}`))),
      "No case was heard in the period."),
    table("Referrals by referring agency", ["Agency", "Referrals"],
      f.by_agency.map((a) => el("tr", {}, el("th", { scope: "row" }, a.agency),
        el("td", {}, bar(a.referrals, most, `${a.referrals} referrals from ${a.agency}`), ` ${a.referrals}`))),
      "No referral was received in the period."),
  ];
}

let drawing = 0;

async function refresh() {
  const holder = document.getElementById("sections");
  const mine = ++drawing;  // only the latest refresh draws: an older one may answer last
  const built = await Promise.all(shown.map(async (name) => {
    const [title, draw] = SECTIONS[name];
    let body;
    try {
      body = await draw();
    } catch (refused) {
      body = el("p", {}, refused.message);
    }
    return el("section", { id: `section-${name}`, "aria-labelledby": `heading-${name}` },
      el("h2", { id: `heading-${name}` }, title), body);
  }));
  if (mine === drawing) holder.replaceChildren(...built);
}

async function start() {
  await followTheme();
  try {
    const me = await call(scoped("/desk/api/me"));
    if (!me.marac) {
      const who = document.getElementById("who");
      if (!me.name_one_of.length) who.textContent = "You have no role in a MARAC here.";
      else who.replaceChildren("You serve several MARACs; open the desk of ",
        ...me.name_one_of.flatMap((m, i) => [i ? ", " : "", el("a", { href: `?marac=${m.id}` }, m.name)]), ".");
      document.body.dataset.ready = "true";
      return;
    }
    document.getElementById("title").textContent = `${me.marac.name} desk`;
    document.getElementById("who").textContent = `Signed in as ${me.first_name}: ${me.roles.join(", ")}.`;
    shown = me.sections;
    await refresh();
  } catch (refused) {
    document.getElementById("who").textContent = refused.message;
  }
  document.body.dataset.ready = "true";
}

start();
