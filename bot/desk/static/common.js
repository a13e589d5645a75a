// What the desk and the panel share: the Teams SSO token, the theme, and calls to the API.
// The token is kept for this browser tab's session only (sessionStorage), never in a cookie.
import {
  allComponents, baseLayerLuminance, provideFluentDesignSystem, StandardLuminance,
} from "/desk/vendor/fluent.js";

provideFluentDesignSystem().register(allComponents);

const TOKEN = "marac.desk.token";
const framed = window.parent !== window;
let teams = null;
let teamsReady = null;

function loadTeams() {
  // Only inside Teams' frame: outside it the library has no host to talk to.
  return new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = "/desk/vendor/teams-js.js";
    script.onload = () => resolve(window.microsoftTeams);
    script.onerror = () => resolve(null);
    document.head.append(script);
  });
}

function inTeams() {
  if (!framed) return Promise.resolve(false);
  teamsReady ??= loadTeams().then((library) => {
    teams = library;
    return library ? library.app.initialize().then(() => true, () => false) : false;
  });
  return teamsReady;
}

export async function teamsContext() {
  return (await inTeams()) ? teams.app.getContext() : null;
}

async function token() {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    sessionStorage.setItem(TOKEN, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (await inTeams()) return teams.authentication.getAuthToken();
  return sessionStorage.getItem(TOKEN);
}

export class Refused extends Error {
  constructor(status, sentence) { super(sentence); this.status = status; }
}

export async function call(path, body) {
  const bearer = await token();
  if (!bearer) throw new Refused(401, "Open the MARAC desk in Teams to sign in.");
  const answer = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store", credentials: "omit",
  });
  const json = await answer.json().catch(() => ({}));
  if (answer.status === 401) throw new Refused(401, "Sign in through Teams to see the MARAC desk.");
  if (!answer.ok) throw new Refused(answer.status, json.refused || "That could not be done.");
  return json;
}

function applyTheme(theme) {
  const name = ["dark", "contrast"].includes(theme) ? theme : "default";
  document.documentElement.dataset.theme = name;
  baseLayerLuminance.setValueFor(document.body, name === "default"
    ? StandardLuminance.LightMode : StandardLuminance.DarkMode);
}

export async function followTheme() {
  const asked = new URLSearchParams(location.search).get("theme");
  const context = asked ? null : await teamsContext();
  applyTheme(asked || context?.app?.theme || "default");
  if (context) teams.app.registerOnThemeChangeHandler(applyTheme);
  return context;
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function say(text) {
  // The chat's sentences mark commands in Markdown (**extend 5**); plain text here.
  document.getElementById("status").textContent = text.replaceAll("**", "");
}

export function when(iso, options) {
  return new Date(iso).toLocaleString("en-GB", {
    timeZone: "Europe/London", weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit", ...options,
  });
}
