"use strict";
// The status page: a classic script, no framework, no build step. It follows /api/events and
// updates one table row per child in place, so the page never needs a reload. Every string the
// server sends goes in with textContent or as an attribute value, never parsed as HTML.

// Badge colours; the state's name is always written in the badge too.
const STATE_CLASS = {
  RUNNING: "s-ok",
  STARTING: "s-warn",
  STOPPING: "s-warn",
  BACKOFF: "s-backoff",
  FATAL: "s-bad",
  EXITED: "s-bad",
  STOPPED: "s-off",
};
const ACTIONS = ["start", "stop", "restart"];
const LIVE = new Set(["STARTING", "RUNNING", "STOPPING"]);
const HISTORY = 120; // resource samples kept per child, as the server does
const LOG_CAP = 1000; // lines kept in the log panel
const LOG_INITIAL = 100; // lines asked for when a log is opened
const EXITS_SHOWN = 20;
const RETRY_MS = 3000; // when the browser gave up on the event stream (an HTTP error)
const SVG = "http://www.w3.org/2000/svg";

const byId = (id) => document.getElementById(id);

const page = {
  // name -> { data: ChildData, receivedAt, row, cells, history: ResourceData[], resources }
  children: new Map(),
  info: null,
  infoAt: 0,
  actions: false,
  source: null,
  retryTimer: 0,
  // Exits seen in change events, by "child|at".
  changeExits: new Map(),
  exitsKey: "",
  log: { child: "", stream: "stdout", source: null, generation: 0 },
};

// --- Small helpers.

// An element with attributes (on* keys: listeners) and children (strings become text nodes).
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  element.append(...children.filter((child) => child != null));
  return element;
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

// Calls each handler with its event's data, parsed.
function listen(source, handlers) {
  for (const [type, handle] of Object.entries(handlers)) {
    source.addEventListener(type, (event) => {
      try {
        handle(JSON.parse(event.data));
      } catch (error) {
        console.warn("supervisor-ts: event", type, error);
      }
    });
  }
}

// 3d 4h, 2h 05m, 4m 03s, 12s
function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [d, hr, m] = [s / 86400, (s % 86400) / 3600, (s % 3600) / 60].map(Math.floor);
  const two = (n) => String(n).padStart(2, "0");
  return d ? `${d}d ${hr}h` : hr ? `${hr}h ${two(m)}m` : m ? `${m}m ${two(s % 60)}s` : `${s}s`;
}

// 512 B, 12.3 KiB, 45.6 MiB
function bytes(n) {
  let unit = 0;
  for (; n >= 1024 && unit < 4; unit++) n /= 1024;
  return unit ? `${n.toFixed(n < 10 ? 2 : 1)} ${["", "KiB", "MiB", "GiB", "TiB"][unit]}` : `${n} B`;
}

function percent(n) {
  return `${n.toFixed(n < 10 ? 1 : 0)} %`;
}

// 14:03:07 today, else with the date
function clock(iso) {
  const date = new Date(iso);
  const today = date.toDateString() === new Date().toDateString();
  return date[today ? "toLocaleTimeString" : "toLocaleString"]([], { hour12: false });
}

// --- The small charts: an inline SVG sparkline per metric, drawn here from the samples of
// /api/resources and the live `resources` events. This is the page's chosen "small chart": no
// chart library, a polyline over an area, scaled to the largest value shown.

function sparkline() {
  const svg = document.createElementNS(SVG, "svg");
  const attrs = { class: "spark", viewBox: "0 0 100 20", preserveAspectRatio: "none", role: "img" };
  for (const [key, value] of Object.entries(attrs)) svg.setAttribute(key, value);
  svg.append(...["title", "polygon", "polyline"].map((tag) => document.createElementNS(SVG, tag)));
  return svg;
}

// Draws `values` (oldest first) scaled to their peak (at least `floor`).
function drawSparkline(svg, values, floor, label, format) {
  const [title, area, line] = svg.children;
  const top = Math.max(floor, ...values);
  const step = 100 / Math.max(1, values.length - 1);
  const points = values.map((v, i) =>
    `${(i * step).toFixed(1)},${(19 - (v / top) * 18).toFixed(1)}`
  );
  line.setAttribute("points", points.join(" "));
  area.setAttribute("points", points.length > 1 ? `0,20 ${points.join(" ")} 100,20` : "");
  const text = values.length === 0
    ? `${label}: no samples yet`
    : `${label}, last ${values.length} samples, peak ${format(Math.max(...values))}`;
  svg.setAttribute("aria-label", text);
  title.textContent = text;
}

// --- The children table.

function createRow(name) {
  const cells = {
    state: h("td"),
    badge: h("span", { class: "badge" }),
    pid: h("td", { class: "num" }),
    uptime: h("td", { class: "num" }),
    restarts: h("td", { class: "num" }),
    cpu: h("span", { class: "value cpu" }),
    cpuChart: sparkline(),
    memory: h("span", { class: "value memory" }),
    memoryChart: sparkline(),
    ready: h("td"),
    drift: h("td"),
    actions: h("td", { class: "actions", hidden: !page.actions }),
    buttons: {},
  };
  cells.state.append(cells.badge);
  for (const op of ACTIONS) {
    const button = h("button", {
      type: "button",
      "data-op": op,
      "aria-label": `${op} ${name}`,
      onclick: () => act(op, name, button),
    }, op);
    cells.buttons[op] = button;
    cells.actions.append(button);
  }
  const row = h(
    "tr",
    {
      class: "child",
      "data-child": name,
      // A click anywhere but on an action (the name is a button, for the keyboard).
      onclick: (event) => event.target.closest("[data-op]") || selectLog(name),
    },
    h(
      "th",
      { scope: "row" },
      h("button", { type: "button", class: "name-button", title: `Show the log of ${name}` }, name),
    ),
    cells.state,
    cells.pid,
    cells.uptime,
    cells.restarts,
    h("td", {}, h("span", { class: "metric" }, cells.cpu, cells.cpuChart)),
    h("td", {}, h("span", { class: "metric" }, cells.memory, cells.memoryChart)),
    cells.ready,
    cells.drift,
    cells.actions,
  );
  return { row, cells };
}

// The entry of `name`, its row placed in name order.
function entryFor(name) {
  let entry = page.children.get(name);
  if (entry) return entry;
  entry = { ...createRow(name), option: h("option", {}, name), history: [], resources: null };
  page.children.set(name, entry);
  byId("rows").querySelector(".placeholder")?.remove();
  for (const other of [...page.children.keys()].sort()) {
    byId("rows").append(page.children.get(other).row);
    byId("log-child").append(page.children.get(other).option);
  }
  byId("log-child").value = page.log.child;
  entry.row.ariaCurrent = String(page.log.child === name);
  return entry;
}

function applyChild(data) {
  const entry = entryFor(data.name);
  entry.data = data;
  entry.receivedAt = Date.now();
  entry.resources = data.resources ?? null;
  renderChild(entry);
}

function renderChild(entry) {
  const { data, cells } = entry;
  if (!data) return;
  setText(cells.badge, data.state);
  cells.badge.className = `badge ${STATE_CLASS[data.state] ?? "s-off"}`;
  const detail = [`since ${clock(data.since)}`];
  if (data.error) detail.push(data.error);
  if (data.state === "BACKOFF" && data.next_attempt_at) {
    detail.push(`next attempt ${clock(data.next_attempt_at)}`);
  }
  if (data.adopted) detail.push("adopted from an earlier server");
  cells.state.title = detail.join(" — ");
  setText(cells.pid, data.pid === null ? "—" : String(data.pid));
  setText(cells.restarts, String(data.restarts));
  setText(
    cells.ready,
    data.ready === null ? "—" : data.ready ? `ready` : "not ready",
  );
  setText(cells.drift, data.drift ?? "—");
  cells.drift.title = data.config_error ?? "";
  // What each state allows, as lib/process/state.ts says.
  const live = LIVE.has(data.state);
  const waiting = data.state === "BACKOFF";
  const allowed = {
    start: !live,
    stop: live || waiting,
    restart: live || waiting || data.state === "FATAL",
  };
  for (const op of ACTIONS) cells.buttons[op].disabled = entry.busy || !allowed[op];
  entry.row.classList.toggle("idle", !live);
  renderUptime(entry);
  renderResources(entry);
}

function renderUptime(entry) {
  const { data, receivedAt, cells } = entry;
  const live = data && LIVE.has(data.state) && data.uptime_ms !== null;
  setText(cells.uptime, live ? duration(data.uptime_ms + Date.now() - receivedAt) : "—");
}

function renderResources(entry) {
  const { cells, history } = entry;
  const now = entry.resources;
  setText(cells.cpu, now && now.cpu_percent !== null ? percent(now.cpu_percent) : "—");
  setText(cells.memory, now ? bytes(now.rss_bytes) : "—");
  const cpu = history.map((s) => s.cpu_percent).filter((v) => v !== null);
  drawSparkline(cells.cpuChart, cpu, 10, "CPU", percent);
  drawSparkline(cells.memoryChart, history.map((s) => s.rss_bytes), 1, "Memory", bytes);
}

function addSample(entry, sample) {
  const last = entry.history[entry.history.length - 1];
  if (last && last.sampled_at >= sample.sampled_at) return;
  entry.history.push(sample);
  if (entry.history.length > HISTORY) entry.history.splice(0, entry.history.length - HISTORY);
}

function renderCounts() {
  const counts = {};
  for (const { data } of page.children.values()) {
    if (data) counts[data.state] = (counts[data.state] ?? 0) + 1;
  }
  byId("counts").replaceChildren(
    ...Object.keys(STATE_CLASS).filter((state) => counts[state]).map((state) =>
      h("span", { class: `badge ${STATE_CLASS[state]}` }, `${counts[state]} ${state}`)
    ),
  );
}

function renderProblems(problems) {
  const list = byId("problems");
  list.replaceChildren(...problems.map((problem) => h("li", {}, problem)));
  list.hidden = problems.length === 0;
}

// --- Recent exits: every child's history (and exits carried by change events), newest first.

function renderExits() {
  const exits = new Map(page.changeExits);
  for (const [name, { data }] of page.children) {
    if (!data) continue;
    for (const exit of [...data.history, data.last_exit]) {
      if (exit) exits.set(`${name}|${exit.at}`, { child: name, exit });
    }
  }
  const list = [...exits.entries()].sort((a, b) => (a[1].exit.at < b[1].exit.at ? 1 : -1))
    .slice(0, EXITS_SHOWN);
  const key = JSON.stringify(list);
  if (key === page.exitsKey) return;
  page.exitsKey = key;
  byId("exits").replaceChildren(...list.map(([, item]) => exitItem(item.child, item.exit)));
}

function exitItem(child, exit) {
  const kind = exit.requested ? "requested, " : exit.expected ? "expected, " : "";
  return h(
    "li",
    { "data-child": child },
    h("time", { datetime: exit.at, title: exit.at }, clock(exit.at)),
    h("strong", {}, child),
    " ",
    h("span", { class: "description" }, exit.description),
    exit.reason ? h("span", { class: "reason" }, `reason: ${exit.reason}`) : null,
    h("span", { class: "tag" }, `${kind}ran ${duration(exit.ran_ms)}`),
    exit.stderr_tail.length > 0 ? h("pre", {}, exit.stderr_tail.join("\n")) : null,
  );
}

// --- Server info in the header.

function renderInfo() {
  const info = page.info;
  if (!info) return;
  setText(byId("info-version"), info.version);
  setText(byId("info-listen"), info.listen);
  setText(byId("info-http"), location.host);
  setText(byId("info-pid"), String(info.pid));
  setText(byId("info-uptime"), duration(info.uptime_ms + Date.now() - page.infoAt));
}

function tick() {
  renderInfo();
  for (const entry of page.children.values()) if (entry.data) renderUptime(entry);
}

// --- The event stream.

function setConnected(connected) {
  byId("banner").hidden = connected;
  byId("main").classList.toggle("stale", !connected);
}

function connect() {
  clearTimeout(page.retryTimer);
  page.source?.close();
  const source = new EventSource("api/events");
  page.source = source;
  listen(source, {
    hello(hello) {
      setConnected(true);
      byId("login").hidden = true;
      page.actions = Boolean(hello.actions && hello.authenticated);
      document.querySelectorAll(".actions").forEach((cell) => cell.hidden = !page.actions);
      page.info = hello.info;
      page.infoAt = Date.now();
      renderInfo();
      loadResources();
      const log = page.log;
      if (log.child && (!log.source || log.source.readyState === EventSource.CLOSED)) {
        openLog();
      }
    },
    check(check) {
      const names = new Set(check.children.map((child) => child.name));
      for (const [name, entry] of page.children) {
        if (names.has(name)) continue;
        entry.row.remove();
        entry.option.remove();
        page.children.delete(name);
      }
      for (const child of check.children) applyChild(child);
      if (check.children.length === 0) {
        byId("rows").replaceChildren(
          h("tr", { class: "placeholder" }, h("td", { colspan: 10 }, "No children configured.")),
        );
      }
      renderProblems(check.problems);
      renderCounts();
      renderExits();
    },
    change(change) {
      const entry = entryFor(change.child);
      if (entry.data) {
        // A run that ended has no pid any more; its fresh report follows.
        const ended = change.exit ? { pid: null, started_at: null, uptime_ms: null } : {};
        entry.data = { ...entry.data, ...ended, state: change.to, since: change.at };
        renderChild(entry);
      }
      if (change.exit) {
        const exits = page.changeExits;
        exits.set(`${change.child}|${change.exit.at}`, { child: change.child, exit: change.exit });
        if (exits.size > EXITS_SHOWN) exits.delete(exits.keys().next().value);
      }
      const why = change.exit?.description ?? change.reason;
      byId("announcer").textContent = `${change.child}: ${change.from} → ${change.to}` +
        (why ? ` (${why})` : "");
      renderCounts();
      renderExits();
    },
    child(child) {
      applyChild(child);
      renderCounts();
      renderExits();
    },
    resources(resources) {
      for (const [name, sample] of Object.entries(resources.children)) {
        const entry = page.children.get(name);
        if (!entry) continue;
        addSample(entry, sample);
        entry.resources = sample;
        renderResources(entry);
      }
    },
  });
  source.addEventListener("error", () => {
    if (source !== page.source) return;
    setConnected(false);
    // While CONNECTING the browser retries by itself; CLOSED means it gave up (an HTTP error
    // or another content type), so ask why: a 401 asks for the token, anything else retries.
    if (source.readyState === EventSource.CLOSED) diagnose();
  });
}

async function diagnose() {
  try {
    const response = await fetch("api/info");
    if (response.status === 401) return showLogin();
  } catch {
    // unreachable: retry below
  }
  page.retryTimer = setTimeout(connect, RETRY_MS);
}

async function loadResources() {
  try {
    const response = await fetch("api/resources");
    if (!response.ok) return;
    const body = await response.json();
    for (const [name, samples] of Object.entries(body.children ?? {})) {
      const entry = page.children.get(name);
      if (!entry) continue;
      const live = entry.history;
      entry.history = samples.slice(-HISTORY);
      for (const sample of live) addSample(entry, sample);
      renderResources(entry);
    }
  } catch {
    // the charts fill from the live events
  }
}

// --- Sign-in.

function showLogin() {
  page.source?.close();
  page.source = null;
  byId("banner").hidden = true;
  byId("login").hidden = false;
  byId("main").hidden = true;
  byId("login-token").focus();
}

async function login(event) {
  event.preventDefault();
  const input = byId("login-token");
  const error = byId("login-error");
  error.textContent = "";
  try {
    const response = await fetch("login", {
      method: "POST",
      headers: { "X-Requested-With": "supervisor-ts" },
      body: new URLSearchParams({ token: input.value }),
    });
    if (response.status === 401) return (error.textContent = "That token is not right.");
    if (!response.ok) return (error.textContent = `Sign-in failed (${response.status})`);
  } catch {
    return (error.textContent = "The server cannot be reached.");
  }
  input.value = "";
  byId("login").hidden = true;
  byId("main").hidden = false;
  connect();
}

// --- Actions: start, stop, restart (only shown when the server allows them and we are signed in).

async function act(op, name, button) {
  const result = byId("action-result");
  const entry = page.children.get(name);
  entry.busy = true;
  renderChild(entry);
  result.classList.remove("failed");
  result.textContent = `${op} ${name}…`;
  try {
    const response = await fetch(`api/${op}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Requested-With": "supervisor-ts" },
      body: JSON.stringify({ child: name }),
    });
    const reply = await response.json().catch(() => null);
    const message = reply?.message ?? `${response.status} ${response.statusText}`;
    result.textContent = `${op} ${name}: ${message}`;
    result.classList.toggle("failed", !reply?.ok);
    if (response.status === 401) showLogin();
  } catch {
    result.textContent = `${op} ${name}: the server cannot be reached`;
    result.classList.add("failed");
  } finally {
    entry.busy = false;
    renderChild(entry);
    (button.disabled ? entry.row.querySelector("button") : button).focus();
  }
}

// --- The log tail of one child: /api/log for the last lines, then /api/log/follow for new ones.

function selectLog(name) {
  if (page.log.child === name && page.log.source?.readyState !== EventSource.CLOSED) return;
  page.log.child = name;
  byId("log-child").value = name;
  for (const [other, entry] of page.children) entry.row.ariaCurrent = String(other === name);
  openLog();
}

function logLine(text, note) {
  const box = byId("log");
  box.append(h("div", { class: note && "note" }, text));
  while (box.childElementCount > LOG_CAP) box.firstChild.remove();
  if (byId("autoscroll").checked) box.scrollTop = box.scrollHeight;
}

async function openLog() {
  const log = page.log;
  const generation = ++log.generation;
  const current = () => generation === log.generation;
  log.source?.close();
  log.source = null;
  const box = byId("log");
  box.replaceChildren();
  box.classList.toggle("stderr", log.stream === "stderr");
  if (!log.child) return;
  const query = `child=${encodeURIComponent(log.child)}&stream=${log.stream}`;
  box.setAttribute("aria-label", `Log lines of ${log.child} (${log.stream})`);
  // Follow first, holding the new lines until the recent ones are shown, so that none is lost.
  let held = [];
  const source = new EventSource(`api/log/follow?${query}`);
  log.source = source;
  listen(source, {
    line: (data) => current() && (held ? held.push(data.line) : logLine(data.line)),
    dropped: (data) => logLine(`(${data.count} lines dropped: the page read too slowly)`, true),
    end() {
      source.close();
      logLine("(the server stopped following)", true);
    },
  });
  // A lost follow is not left to resume on its own, which would skip lines: the page opens the
  // log anew once its event stream is back (hello), or when the child is chosen again.
  source.addEventListener("error", () => {
    source.close();
    if (current()) logLine("(following stopped)", true);
  });
  await new Promise((resolve) => {
    source.addEventListener("open", resolve, { once: true });
    source.addEventListener("error", resolve, { once: true });
  });
  let lines = [];
  try {
    const response = await fetch(`api/log?${query}&lines=${LOG_INITIAL}`);
    if (!current()) return;
    if (response.status === 401) return showLogin();
    const reply = await response.json();
    if (!current()) return;
    if (!reply.ok) logLine(reply.message, true);
    else lines = reply.data.lines;
  } catch {
    if (!current()) return;
    logLine("(the recent lines could not be read)", true);
  }
  // The lines written between the start of the follow and the read came both ways.
  let both = Math.min(lines.length, held.length);
  while (both > 0 && held.slice(0, both).some((line, i) => line !== lines.at(i - both))) both--;
  lines = [...lines, ...held.slice(both)];
  held = null;
  for (const line of lines) logLine(line);
  if (lines.length === 0) logLine(`(no ${log.stream} output yet)`, true);
}

// --- Start.

byId("login").addEventListener("submit", login);
byId("log-child").addEventListener("change", (event) => selectLog(event.target.value));
byId("log-stream").addEventListener("change", (event) => {
  page.log.stream = event.target.value;
  openLog();
});
setInterval(tick, 1000);
connect();
