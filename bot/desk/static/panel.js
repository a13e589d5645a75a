// The meeting's side panel: the agenda, the current case and its slot clock, read from the
// database every second (so every replica shows the same); the chair's buttons for the chair
// and the stand-in only. Case numbers and first names only: it may be on a shared screen.
import { call, element as el, followTheme, say, teamsContext } from "/desk/static/common.js";

const POLL_MS = 1000;
let where = "";
let drawnControls = "";

function clock(seconds) {
  const whole = Math.abs(seconds);
  const text = `${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
  return seconds < 0 ? `+${text}` : text;
}

let asked = 0;
let shown = 0;

async function latest(path, body) {
  // Polls and presses overlap: an answer older than the one shown is not drawn.
  const mine = ++asked;
  const panel = await call(path, body);
  if (mine > shown) {
    shown = mine;
    draw(panel);
  }
}

async function command(name, body = {}) {
  try {
    await latest(`/desk/api/panel/${name}?${where}`, body);
    say(`Done: ${name}.`);
  } catch (refused) {
    say(refused.message);
  }
}

function controls(panel) {
  if (!panel.chairs || !panel.running) return [];
  const b = (text, onclick, accent = false) =>
    el("fluent-button", { appearance: accent ? "accent" : "outline", onclick }, text);
  return [
    b("Next", () => command("next"), true),
    b("Back", () => command("back")),
    b("Extend 5 minutes", () => command("extend", { minutes: "5" })),
    el("label", { class: "note", for: "defer-reason" }, "Reason to defer",
      el("input", { type: "text", id: "defer-reason", maxlength: "300" })),
    b("Defer", () => command("defer", { reason: document.getElementById("defer-reason").value })),
    panel.paused ? b("Resume", () => command("resume")) : b("Pause", () => command("pause")),
    b("End", () => command("end")),
  ];
}

function draw(panel) {
  document.getElementById("title").textContent = panel.marac;
  const current = panel.current;
  document.getElementById("current").textContent = !panel.running
    ? "The meeting has not started."
    : current ? `${current.number} ${current.first_name}`.trim() : "No case is open.";
  const clockText = document.getElementById("clock");
  const note = document.getElementById("clock-note");
  clockText.textContent = current ? clock(current.remaining) : "";
  clockText.className = `clock${current?.overrun ? " overrun" : current?.warning ? " warning" : ""}`;
  note.className = clockText.className.replace("clock", "").trim();
  note.textContent = !current ? "" : panel.paused ? "Paused: the slot clock has stopped."
    : current.overrun ? `The slot is over by ${clock(current.overrun)}.`
    : current.warning ? "Five minutes or less of the slot remain." : "";
  const key = `${panel.chairs}/${panel.running}/${panel.paused}`;
  if (key !== drawnControls) {  // redrawn only when they change, so focus is not lost
    document.getElementById("controls").replaceChildren(...controls(panel));
    drawnControls = key;
  }
  document.getElementById("agenda").replaceChildren(...panel.cases.map((c) =>
    el("li", { "aria-current": c.current ? "true" : false },
      `${c.number} ${c.first_name}`.trim(), el("span", { class: "muted" }, ` (${c.status})`))));
  document.body.dataset.ready = "true";
}

async function poll(opening) {
  try {
    await latest(`/desk/api/panel?${where}${opening ? "&opening=1" : ""}`);
  } catch (refused) {
    say(refused.message);
    if (refused.status === 401 || refused.status === 403) return;
  }
  setTimeout(() => poll(false), POLL_MS);
}

async function start() {
  const context = await followTheme() || await teamsContext();
  const query = new URLSearchParams(location.search);
  const place = new URLSearchParams();
  const team = query.get("team") || context?.team?.internalId;
  const channel = query.get("channel") || context?.channel?.id;
  if (team && channel) {
    place.set("team", team);
    place.set("channel", channel);
  } else {
    place.set("chat", query.get("chat") || context?.chat?.id || "");
  }
  where = place.toString();
  poll(true);
}

start();
