// The sandbox page: one Telegram-like chat per person, kept up to date by long polling.
// Plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

const state = {
  people: [],
  panels: new Map(), // person id -> {person, root, messages, elements: Map(message id -> node)}
  cursor: null,
  skew: 0, // bot clock minus this browser's clock, in ms
  offset: 0, // bot clock minus the machine's real time, in s
  choices: { languages: [], zones: [] },
};

const $ = (selector, root = document) => root.querySelector(selector);
const botNow = () => Date.now() + state.skew;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(path, body) {
  const answer = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Sandbox": "1" },
    body: JSON.stringify(body),
  });
  const data = await answer.json();
  if (!answer.ok || data.error) throw new Error(data.error || answer.statusText);
  return data;
}

function notify(text, kind = "info") {
  const notice = $("#notice");
  notice.textContent = text;
  notice.className = kind;
  notice.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { notice.hidden = true; }, kind === "error" ? 8000 : 4000);
}

async function act(promise) {
  try {
    return await promise;
  } catch (error) {
    notify(error.message, "error");
    return null;
  }
}

// ---- time -------------------------------------------------------------------------------------
function zoneName(person) {
  const parts = new Intl.DateTimeFormat(person.language, {
    timeZone: person.zone, timeZoneName: "long",
  }).formatToParts(new Date(botNow()));
  return (parts.find((part) => part.type === "timeZoneName") || {}).value || person.zone;
}

function clockText(date, zone, language, withDay) {
  const options = { timeZone: zone, hour: "2-digit", minute: "2-digit" };
  if (withDay) Object.assign(options, { weekday: "short", day: "numeric", month: "short" });
  return new Intl.DateTimeFormat(language, options).format(date);
}

function offsetText(seconds) {
  if (Math.abs(seconds) < 60) return "real time";
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const parts = [days && `${days} d`, hours && `${hours} h`, minutes && `${minutes} min`];
  return `+${parts.filter(Boolean).join(" ")} ahead`;
}

function tick() {
  const now = new Date(botNow());
  // The bar shows the bot's clock in this browser's own zone, named.
  $("#clock-now").textContent = new Intl.DateTimeFormat("en", {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  }).format(now);
  $("#clock-now").dateTime = now.toISOString();
  $("#clock-offset").textContent = offsetText(state.offset);
  for (const panel of state.panels.values()) {
    const local = $(".local-time", panel.root);
    local.textContent = clockText(now, panel.person.zone, panel.person.language, true);
  }
}

function setClock(clock) {
  state.skew = Date.parse(clock.now) - Date.now();
  state.offset = clock.offset;
  tick();
}

// ---- panels -----------------------------------------------------------------------------------
function panelFor(person) {
  const existing = state.panels.get(person.id);
  if (existing) return existing;
  const root = $("#phone-template").content.firstElementChild.cloneNode(true);
  root.dataset.person = person.id;
  $(".avatar", root).textContent = person.name.slice(0, 1).toUpperCase();
  $(".name", root).textContent = person.name;
  $(".about", root).textContent = `${person.role} · ${person.place} · ${person.language}`;
  $(".zone", root).textContent = zoneName(person);
  const panel = { person, root, messages: $(".messages", root), elements: new Map() };
  wireComposer(panel);
  state.panels.set(person.id, panel);
  $("#people").append(root);
  return panel;
}

function wireComposer(panel) {
  const form = $(".composer", panel.root);
  const text = $(".text", panel.root);
  const file = $(".file", panel.root);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = text.value;
    if (!typed.trim()) return;
    text.value = "";
    act(post("/api/send", { person: panel.person.id, text: typed }));
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  file.addEventListener("change", () => {
    const chosen = file.files[0];
    if (!chosen) return;
    const body = new FormData();
    body.append("person", panel.person.id);
    body.append("caption", text.value);
    body.append("file", chosen, chosen.name);
    text.value = "";
    file.value = "";
    act(fetch("/api/document", { method: "POST", headers: { "X-Sandbox": "1" }, body })
      .then((answer) => (answer.ok ? answer : answer.json().then((d) => { throw new Error(d.error); }))));
  });
}

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function messageNode(panel, message) {
  const person = panel.person;
  const node = document.createElement("div");
  node.className = `message ${message.dir === "out" ? "from-bot" : "from-person"}`;
  node.dataset.id = message.id;
  node.dataset.edits = message.edits;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (message.document) {
    const link = document.createElement("a");
    link.className = "document";
    link.href = `/api/file/${encodeURIComponent(message.document.file_id)}`;
    link.download = message.document.name;
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.textContent = (message.document.name.split(".").pop() || "file").slice(0, 4);
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = message.document.name;
    const size = document.createElement("small");
    size.textContent = sizeText(message.document.size);
    link.append(icon, name, size);
    bubble.append(link);
  }
  if (message.photo) {
    // A chart or a card: shown as Telegram shows a photo, its caption (the alt text) below.
    const image = document.createElement("img");
    image.className = "photo";
    image.src = `/api/file/${encodeURIComponent(message.photo.file_id)}`;
    image.alt = message.text || "";
    if (message.photo.width && message.photo.height) {
      image.width = Math.min(320, message.photo.width);
      image.height = Math.round(image.width * message.photo.height / message.photo.width);
    }
    bubble.append(image);
  }
  if (message.contact) {
    const contact = document.createElement("div");
    contact.className = "contact";
    contact.textContent = `📱 ${message.contact.phone}`;
    bubble.append(contact);
  }
  if (message.text) {
    const text = document.createElement("div");
    text.className = "text";
    text.append(SandboxEntities.render(message.text, message.entities, {
      language: person.language,
      zone: person.zone,
      now: botNow,
      onCommand: message.dir === "out" ? (command) => act(post("/api/send", { person: person.id, text: command })) : null,
    }));
    bubble.append(text);
  }
  const meta = document.createElement("span");
  meta.className = "meta";
  const when = clockText(new Date(message.time), person.zone, person.language, false);
  meta.textContent = message.edits ? `edited ${when}` : when;
  bubble.append(meta);
  node.append(bubble);
  if (message.buttons.length) node.append(inlineKeyboard(panel, message));
  return node;
}

function inlineKeyboard(panel, message) {
  const keyboard = document.createElement("div");
  keyboard.className = "inline-keyboard";
  for (const row of message.buttons) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const url = button.url ? SandboxEntities.safeUrl(button.url) : null;
      const item = document.createElement(url ? "a" : "button");
      item.textContent = button.text;
      if (url) {
        Object.assign(item, { href: url, target: "_blank", rel: "noopener noreferrer" });
        item.className = "url";
      } else if (button.data !== undefined) {
        item.type = "button";
        item.addEventListener("click", () => {
          item.classList.add("pending");
          setTimeout(() => item.classList.remove("pending"), 1500);
          act(post("/api/press", { person: panel.person.id, message: message.id, data: button.data }));
        });
      } else {
        item.disabled = true;
      }
      line.append(item);
    }
    keyboard.append(line);
  }
  return keyboard;
}

function showMessages(panel, messages) {
  const box = panel.messages;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  for (const message of messages) {
    const old = panel.elements.get(message.id);
    if (message.deleted) {
      if (old) old.remove();
      panel.elements.delete(message.id);
      continue;
    }
    const node = messageNode(panel, message);
    if (old) {
      old.replaceWith(node);
    } else {
      const later = [...panel.elements.entries()].find(([id]) => id > message.id);
      box.insertBefore(node, later ? later[1] : null);
    }
    panel.elements.set(message.id, node);
  }
  if (atBottom || messages.some((m) => m.dir === "in")) box.scrollTop = box.scrollHeight;
}

function showKeyboard(panel, keyboard) {
  const area = $(".reply-keyboard", panel.root);
  area.replaceChildren();
  area.hidden = !keyboard;
  $(".text", panel.root).placeholder = (keyboard && keyboard.placeholder) || "Message";
  if (!keyboard) return;
  for (const row of keyboard.rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const item = document.createElement("button");
      item.type = "button";
      item.textContent = button.text;
      if (button.contact) item.classList.add("contact");
      item.addEventListener("click", () => act(post("/api/keyboard", { person: panel.person.id, text: button.text })));
      line.append(item);
    }
    area.append(line);
  }
}

function showToast(toast) {
  const panel = state.panels.get(toast.person);
  if (!panel) return;
  const box = document.createElement("div");
  box.className = toast.alert ? "toast alert" : "toast";
  box.setAttribute("role", toast.alert ? "alertdialog" : "status");
  const text = document.createElement("p");
  text.textContent = toast.text;
  box.append(text);
  if (toast.alert) {
    const ok = document.createElement("button");
    ok.type = "button";
    ok.textContent = "OK";
    ok.addEventListener("click", () => box.remove());
    box.append(ok);
  } else {
    setTimeout(() => box.remove(), 3500);
  }
  $(".toasts", panel.root).append(box);
}

// ---- state from the server --------------------------------------------------------------------
function apply(update) {
  if (update.people) {
    state.people = update.people;
    for (const person of update.people) panelFor(person);
  }
  for (const [id, messages] of Object.entries(update.chats || {})) {
    const panel = state.panels.get(Number(id));
    if (panel) showMessages(panel, messages);
  }
  for (const [id, keyboard] of Object.entries(update.keyboards || {})) {
    const panel = state.panels.get(Number(id));
    if (panel) showKeyboard(panel, keyboard);
  }
  for (const toast of update.toasts || []) showToast(toast);
  if (update.clock) setClock(update.clock);
  if (update.cursor) state.cursor = update.cursor;
}

async function load() {
  const answer = await fetch("/api/state", { cache: "no-store" });
  const snapshot = await answer.json();
  state.panels.clear();
  $("#people").replaceChildren();
  state.choices = snapshot.choices;
  apply(snapshot);
  document.body.dataset.generation = snapshot.cursor.generation;
  document.body.dataset.ready = "1";
  window.sandboxReadyAt = performance.now();
}

async function follow() {
  for (;;) {
    try {
      const update = await post("/api/updates", { cursor: state.cursor });
      if (update.reload) await load();
      else apply(update);
      document.body.classList.remove("offline");
    } catch (error) {
      document.body.classList.add("offline");
      await sleep(1000);
    }
  }
}

// ---- the bar: clock, people, console, reset ---------------------------------------------------
function wireBar() {
  for (const button of document.querySelectorAll("[data-jump]")) {
    button.addEventListener("click", async () => {
      const moved = await act(post("/api/clock", { to: button.dataset.jump }));
      if (moved) notify(`Bot clock: ${clockText(new Date(moved.now), undefined, "en", true)}`);
    });
  }
  const dialog = $("#person-dialog");
  const form = $("#person-form");
  $("#add-person").addEventListener("click", () => {
    const fill = (select, values) => select.replaceChildren(...values.map((value) => new Option(value, value)));
    fill(form.elements.language, state.choices.languages);
    fill(form.elements.zone, state.choices.zones);
    form.reset();
    dialog.showModal();
  });
  $("#person-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const added = await act(post("/api/people", {
      name: form.elements.name.value,
      language: form.elements.language.value,
      zone: form.elements.zone.value,
    }));
    if (!added) return;
    dialog.close();
    panelFor(added.person).root.scrollIntoView({ behavior: "smooth", inline: "end" });
  });
  const consolePanel = $("#console");
  $("#toggle-console").addEventListener("click", (event) => {
    consolePanel.hidden = !consolePanel.hidden;
    event.target.setAttribute("aria-expanded", String(!consolePanel.hidden));
    if (!consolePanel.hidden) $("#console-line").focus();
  });
  $("#console-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const line = $("#console-line").value.trim();
    if (!line) return;
    const output = $("#console-output");
    output.textContent += `\n$ consultbot ${line}\n`;
    const done = await act(post("/api/console", { line }));
    if (done) output.textContent += done.output || `(exit status ${done.status})\n`;
    output.dataset.runs = Number(output.dataset.runs || 0) + 1; // how many commands finished
    output.scrollTop = output.scrollHeight;
    $("#console-line").value = "";
  });
  $("#reset").addEventListener("click", async () => {
    if (!window.confirm("Delete the sandbox's database and start again from the demo data?")) return;
    if (await act(post("/api/reset", {}))) notify("Started again from the demo data");
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  wireBar();
  await load();
  setInterval(tick, 1000);
  follow();
});
