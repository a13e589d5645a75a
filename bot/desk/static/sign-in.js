// Dev-only: a local token for a demo person, kept for this tab's session, then the desk.
const list = document.getElementById("people");
const next = new URLSearchParams(location.search).get("next") === "panel" ? "/desk/panel" : "/desk/";

async function signIn(id) {
  const answer = await fetch("/desk/dev/token", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ id }), credentials: "omit",
  });
  const body = await answer.json();
  if (!answer.ok) {
    document.getElementById("status").textContent = body.refused;
    return;
  }
  sessionStorage.setItem("marac.desk.token", body.token);
  location.assign(next + location.search.replace(/([?&])next=[^&]*&?/, "$1"));
}

const people = (await (await fetch("/desk/dev/people")).json()).people;
for (const person of people) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = `Sign in as ${person.first_name}`;
  button.addEventListener("click", () => signIn(person.id));
  item.append(button);
  list.append(item);
}
