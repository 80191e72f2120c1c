// The Imports page: plain JavaScript, no build step, every call through the HTTPS API with the same JWT.
"use strict";

const ENTITIES = ["teachers", "students", "courses", "sections", "enrollments"];
const $ = (selector) => document.querySelector(selector);
const state = { token: null, claims: null, school: null, cursors: [null], page: 0, items: [], calendar: null };

// ------------------------------------------------------------------ sign-in
function readToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const fromHash = hash.get("id_token") || hash.get("token");
  if (fromHash) {
    sessionStorage.setItem("token", fromHash);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("token");
}

function decodeClaims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload + "=".repeat((4 - (payload.length % 4)) % 4)));
  } catch (error) {
    return null;
  }
}

function showSignIn(message) {
  sessionStorage.removeItem("token");
  $("#app").hidden = true;
  $("#signin").hidden = false;
  const hosted = document.querySelector('meta[name="sign-in-url"]').content;
  if (hosted && !hosted.startsWith("{{")) {
    $("#signin-link").href = hosted;
    $("#signin-hosted").hidden = false;
  }
  if (message) toast(message);
}

// ------------------------------------------------------------------ API
class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (response.status === 401) {
    showSignIn("Your sign-in has expired or the token was refused. Sign in again.");
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const schoolPath = (school) => `/districts/${encodeURIComponent(state.claims["custom:district_id"])}/schools/${encodeURIComponent(school)}`;

function toast(message) {
  const box = $("#toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

const fmt = (iso) => (iso ? iso.slice(0, 16).replace("T", " ") : "–");
const cell = (counts, entity) => (counts && counts[entity] ? `${counts[entity].total} (${counts[entity].new})` : "–");
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ------------------------------------------------------------------ schools and the alert
async function loadSchools() {
  const claims = state.claims;
  const district = claims["custom:district_id"];
  $("#who").textContent = `${claims["custom:role"]} · district ${district}`;
  let alerts;
  if (claims["custom:role"] === "district_admin") {
    alerts = (await api("GET", `/districts/${encodeURIComponent(district)}/alerts`)).items;
  } else {
    const ids = (claims["custom:school_ids"] || "").split(",").filter(Boolean);
    alerts = await Promise.all(ids.map((id) => api("GET", `${schoolPath(id)}/alert`).catch(() => ({ school_id: id, status: "unknown" }))));
  }
  alerts.sort((a, b) => (a.status === "stale" ? -1 : 0) - (b.status === "stale" ? -1 : 0) || a.school_id.localeCompare(b.school_id));
  const nav = $("#schools");
  nav.replaceChildren(...alerts.map((alert) => el("button", {
    class: `school status-${alert.status}`, type: "button", "aria-pressed": "false", "data-school": alert.school_id,
    onclick: () => selectSchool(alert.school_id),
  }, el("span", {}, alert.school_id), el("span", { class: `status status-${alert.status}` }, alert.status.replace("_", " ")))));
  if (!alerts.length) toast("No schools are visible to this account yet.");
  const wanted = new URLSearchParams(location.search).get("school");
  const first = alerts.find((a) => a.school_id === wanted) || alerts[0];
  if (first) await selectSchool(first.school_id);
}

async function selectSchool(school) {
  state.school = school;
  state.cursors = [null];
  state.page = 0;
  for (const button of document.querySelectorAll(".school")) {
    button.setAttribute("aria-pressed", String(button.dataset.school === school));
  }
  $("#school-name").textContent = `· ${school}`;
  $("#detail").hidden = true;
  await Promise.all([loadAlert(), loadHistory(), loadCalendar()]);
  await drawTimeline();
}

async function loadAlert() {
  const alert = await api("GET", `${schoolPath(state.school)}/alert`);
  const banner = $("#banner");
  banner.className = "banner";
  banner.replaceChildren();
  if (alert.status === "stale" || alert.status === "never_imported") {
    banner.classList.add("stale");
    const age = alert.age_days == null ? "No import has ever succeeded" : `The newest import is ${alert.age_days.toFixed(1)} days old`;
    const reason = alert.reason.charAt(0).toUpperCase() + alert.reason.slice(1);
    const advice = /sloopy/i.test(reason) ? "" : " Contact your Sloopy installer to check the nightly upload.";
    banner.append(el("strong", {}, `${age} (alert after ${alert.threshold_days} days).`), `${reason}.${advice}`);
    banner.hidden = false;
  } else if (alert.status === "suppressed") {
    banner.classList.add("suppressed");
    banner.append(el("strong", {}, "No alert today."), alert.reason.charAt(0).toUpperCase() + alert.reason.slice(1));
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
  banner.dataset.status = alert.status;
}

// ------------------------------------------------------------------ history
async function loadHistory() {
  const cursor = state.cursors[state.page];
  const query = new URLSearchParams({ limit: "10" });
  if (cursor) query.set("cursor", cursor);
  const page = await api("GET", `${schoolPath(state.school)}/imports?${query}`);
  state.items = page.items;
  if (page.next_cursor) state.cursors[state.page + 1] = page.next_cursor;
  $("#older").disabled = !page.next_cursor;
  $("#newer").disabled = state.page === 0;
  const latestApplied = state.page === 0 ? page.items.find((item) => item.status === "succeeded") : null;
  $("#history tbody").replaceChildren(...page.items.map((item) => {
    const row = el("tr", { tabindex: "0", "data-import": item.import_id, onclick: () => openDetail(item, item === latestApplied),
      onkeydown: (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openDetail(item, item === latestApplied); } } },
    el("td", {}, fmt(item.created_at)), el("td", {}, fmt(item.modified_at)),
    el("td", {}, el("span", { class: `pill ${item.status}` }, item.status.replace("_", " "))),
    ...ENTITIES.map((entity) => el("td", { class: "num", "data-entity": entity }, cell(item.counts, entity))));
    return row;
  }));
  $("#history-empty").hidden = page.items.length > 0;
}

function openDetail(item, isLatestApplied) {
  const detail = $("#detail");
  $("#detail-title").textContent = `Import of ${fmt(item.created_at)} · ${item.status.replace("_", " ")}`;
  const reason = $("#detail-reason");
  reason.hidden = !item.reason;
  reason.textContent = item.reason || "";
  const counts = el("table", { class: "counts" }, el("thead", {}, el("tr", {}, ...["", "total", "new", "dropped", "active"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...ENTITIES.map((entity) => {
      const c = (item.counts || {})[entity] || {};
      return el("tr", {}, el("th", { scope: "row" }, entity), ...["total", "new", "dropped", "active"].map((k) => el("td", {}, c[k] == null ? "–" : String(c[k]))));
    })));
  const issues = (kind) => {
    const list = item[kind] || [];
    const total = item[`${kind.slice(0, -1)}_count`] || list.length;
    if (!list.length) return el("p", { class: "muted" }, `No ${kind}.`);
    return el("div", {}, el("h3", {}, `${kind[0].toUpperCase()}${kind.slice(1)} (${total})`),
      el("table", { class: "issues" }, el("tbody", {}, ...list.map((i) => el("tr", {}, el("td", {}, `${i.file || "upload"}${i.line ? `:${i.line}` : ""}`), el("td", {}, i.code), el("td", {}, i.message))))));
  };
  $("#detail-body").replaceChildren(counts, issues("errors"), issues("warnings"),
    el("p", { class: "muted" }, `Source: ${(item.source || {}).key || "–"} · format ${item.format || "–"} · ${item.in_recommended_window ? "arrived in the midnight–6am window" : "arrived outside the midnight–6am window"}`));
  $("#approve").hidden = item.status !== "held";
  $("#discard").hidden = item.status !== "held";
  $("#rollback").hidden = !isLatestApplied;
  $("#errors-csv").disabled = !(item.errors || []).length;
  detail.dataset.import = item.import_id;
  state.detail = item;
  detail.hidden = false;
  detail.focus();
}

async function decide(action, question) {
  const item = state.detail;
  if (!item || !window.confirm(question)) return;
  const path = `${schoolPath(state.school)}/imports/${encodeURIComponent(item.import_id)}`;
  try {
    let updated = await api("POST", `${path}/${action}`);
    if (updated.status === "processing") {
      // A large decision is carried out by the importer: follow the record until it is done.
      toast("The importer is applying this; the page follows along and updates when it is done.");
      $("#detail-title").textContent = `Import of ${fmt(item.created_at)} · processing`;
      updated = await settled(path);
    }
    toast(`Import ${action === "rollback" ? "rolled back" : `${action}d`}: now ${updated.status.replace("_", " ")}.`);
    await Promise.all([loadHistory(), loadAlert()]);
    openDetail(updated, false);
    await drawTimeline();
  } catch (error) {
    toast(error.message);
  }
}

async function settled(path) {
  for (let waited = 0; waited < 15 * 60; waited += 3) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const record = await api("GET", path);
    if (record.status !== "processing") return record;
  }
  throw new Error("Still processing after 15 minutes; reload the page later to see how it ended.");
}

function downloadErrors() {
  const item = state.detail;
  const quote = (value) => `"${String(value == null ? "" : value).replace(/"/g, '""')}"`;
  const rows = [["file", "line", "code", "message"], ...(item.errors || []).map((e) => [e.file, e.line, e.code, e.message])];
  const blob = new Blob([rows.map((row) => row.map(quote).join(",")).join("\r\n")], { type: "text/csv" });
  const link = el("a", { href: URL.createObjectURL(blob), download: `import-${item.import_id}-errors.csv` });
  document.body.append(link);
  link.click();
  link.remove();
}

// ------------------------------------------------------------------ timeline
const DAY = 86400000;
const dayOf = (iso) => new Date(`${iso.slice(0, 10)}T00:00:00Z`).getTime();

async function drawTimeline() {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 5; page += 1) {
    const query = new URLSearchParams({ limit: "100" });
    if (cursor) query.set("cursor", cursor);
    const result = await api("GET", `${schoolPath(state.school)}/imports?${query}`);
    items.push(...result.items);
    cursor = result.next_cursor;
    if (!cursor) break;
  }
  const today = dayOf(new Date().toISOString());
  const calendar = state.calendar;
  const first = calendar ? dayOf(calendar.first_day) : today - 90 * DAY;
  const last = calendar ? dayOf(calendar.last_day) : today;
  const start = Math.min(first - 14 * DAY, ...items.map((i) => dayOf(i.created_at)));
  const end = Math.max(Math.min(last + 14 * DAY, Math.max(today, first + 60 * DAY)), today);
  const width = 1000, height = 190, top = 18, plot = 130;
  const x = (t) => 40 + ((t - start) / (end - start)) * (width - 60);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Imports of school ${state.school} over the school year`);
  const add = (tag, attrs, text) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text) node.textContent = text;
    svg.append(node);
    return node;
  };
  const band = (from, to, fill, cls) => add("rect", { x: x(from), y: top, width: Math.max(1, x(to + DAY) - x(from)), height: plot, fill, class: cls });
  const breaks = calendar ? calendar.breaks.map((b) => [dayOf(b.start), dayOf(b.end)]) : [];
  const onBreak = (t) => breaks.some(([s, e]) => t >= s && t <= e);
  if (calendar) {
    if (start < first) band(start, first - DAY, "#e3e7ec", "summer");
    if (end > last) band(last + DAY, end, "#e3e7ec", "summer");
    for (const [s, e] of breaks) band(s, e, "#e3e7ec", "break");
  }
  const importDays = new Set(items.map((i) => dayOf(i.created_at)));
  // A day is a gap only once the school is on the system: from its first import, or its first day.
  const firstImport = items.length ? Math.min(...importDays) : today;
  const gapsFrom = calendar ? Math.max(first, Math.min(firstImport, first)) : firstImport;
  for (let t = Math.max(gapsFrom, start); t <= Math.min(today - DAY, last); t += DAY) {
    if (!onBreak(t) && !importDays.has(t)) band(t, t, "#f7c6c0", "gap");
  }
  add("line", { x1: 40, x2: width - 20, y1: top + plot, y2: top + plot, stroke: "#9aa4af" });
  const colors = { succeeded: "#1a7f37", failed: "#b42318", held: "#d4a72c" };
  for (const item of items) {
    const mark = add("circle", { cx: x(dayOf(item.created_at) + DAY / 2), cy: top + plot - 8, r: 5, fill: colors[item.status] || "#6e7781", class: `mark ${item.status}` });
    mark.append(Object.assign(document.createElementNS("http://www.w3.org/2000/svg", "title"), { textContent: `${fmt(item.created_at)} ${item.status}` }));
  }
  const points = items.filter((i) => i.status === "succeeded" && i.counts).map((i) => [dayOf(i.created_at), i.counts.students.active]).sort((a, b) => a[0] - b[0]);
  if (points.length) {
    const max = Math.max(...points.map((p) => p[1])) || 1;
    const y = (v) => top + plot - 20 - (v / max) * (plot - 30);
    add("polyline", { points: points.map(([t, v]) => `${x(t + DAY / 2)},${y(v)}`).join(" "), fill: "none", stroke: "#0b5cad", "stroke-width": 2, class: "students" });
    add("text", { x: 4, y: y(max) + 4, "font-size": 11, fill: "#4f5965" }, String(max));
  }
  const monthStart = new Date(start);
  monthStart.setUTCDate(1);
  for (let m = new Date(monthStart); m.getTime() <= end; m.setUTCMonth(m.getUTCMonth() + 1)) {
    if (m.getTime() < start) continue;
    add("line", { x1: x(m.getTime()), x2: x(m.getTime()), y1: top + plot, y2: top + plot + 5, stroke: "#9aa4af" });
    add("text", { x: x(m.getTime()) + 2, y: top + plot + 18, "font-size": 11, fill: "#4f5965" }, m.toLocaleString("en", { month: "short", timeZone: "UTC" }));
  }
  add("line", { x1: x(today), x2: x(today), y1: top - 6, y2: top + plot, stroke: "#14213d", "stroke-dasharray": "3 3" });
  add("text", { x: x(today) - 3, y: top - 8, "font-size": 11, fill: "#14213d", "text-anchor": "end" }, "today");
  $("#timeline").replaceChildren(svg);
}

// ------------------------------------------------------------------ calendar
async function loadCalendar() {
  const form = $("#calendar");
  form.reset();
  $("#breaks").replaceChildren();
  clearErrors();
  try {
    state.calendar = await api("GET", `${schoolPath(state.school)}/calendar`);
    $("#calendar-source").textContent = state.calendar.inherited_from_district ? "· the district's default" : "· this school's own";
    for (const name of ["school_year", "first_day", "last_day", "timezone", "threshold_days"]) form.elements[name].value = state.calendar[name];
    for (const b of state.calendar.breaks) addBreak(b);
  } catch (error) {
    if (error.status !== 404) throw error;
    state.calendar = null;
    $("#calendar-source").textContent = "· none set: the plain 3-day rule applies";
  }
}

function addBreak(value = { name: "", start: "", end: "" }) {
  const row = el("div", { class: "break-row" },
    el("label", {}, "Name", el("input", { name: "break_name", value: value.name })),
    el("label", {}, "Start", el("input", { name: "break_start", type: "date", value: value.start })),
    el("label", {}, "End", el("input", { name: "break_end", type: "date", value: value.end })),
    el("button", { class: "button", type: "button", onclick: (e) => { e.target.closest(".break-row").remove(); validate(); } }, "Remove"));
  $("#breaks").append(row);
}

function readCalendar() {
  const form = $("#calendar");
  const breaks = [...document.querySelectorAll(".break-row")].map((row) => ({
    name: row.querySelector('[name="break_name"]').value.trim(),
    start: row.querySelector('[name="break_start"]').value,
    end: row.querySelector('[name="break_end"]').value,
  }));
  return {
    school_year: form.elements.school_year.value.trim(), first_day: form.elements.first_day.value,
    last_day: form.elements.last_day.value, timezone: form.elements.timezone.value.trim(),
    threshold_days: Number(form.elements.threshold_days.value || 3), breaks,
  };
}

function clearErrors() {
  for (const p of document.querySelectorAll(".field-error")) p.textContent = "";
  for (const input of document.querySelectorAll("#calendar [aria-invalid]")) input.removeAttribute("aria-invalid");
}

function showError(field, message) {
  const slot = document.querySelector(`.field-error[data-for="${field}"]`) || document.querySelector('.field-error[data-for="breaks"]');
  slot.textContent = message;
  const input = $("#calendar").elements[field];
  if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
}

function validate() {
  clearErrors();
  const c = readCalendar();
  const years = /^(\d{4})-(\d{4})$/.exec(c.school_year);
  let ok = true;
  const fail = (field, message) => { showError(field, message); ok = false; };
  if (!years || Number(years[2]) !== Number(years[1]) + 1) fail("school_year", "Two consecutive years, like 2026-2027.");
  if (!c.first_day) fail("first_day", "Pick the first day of school.");
  if (!c.last_day) fail("last_day", "Pick the last day of school.");
  else if (c.first_day && c.last_day <= c.first_day) fail("last_day", "The last day must be after the first day.");
  if (!c.timezone) fail("timezone", "An IANA time zone, like America/Chicago.");
  if (!(c.threshold_days >= 1 && c.threshold_days <= 60)) fail("threshold_days", "Between 1 and 60 days.");
  const sorted = [...c.breaks].sort((a, b) => a.start.localeCompare(b.start));
  sorted.forEach((b, i) => {
    if (!b.name || !b.start || !b.end) fail("breaks", "Each break needs a name, a start and an end.");
    else if (b.end < b.start) fail("breaks", `${b.name}: the end is before the start.`);
    else if (c.first_day && c.last_day && (b.start < c.first_day || b.end > c.last_day)) fail("breaks", `${b.name} is outside the school year.`);
    if (i > 0 && b.start && sorted[i - 1].end && b.start <= sorted[i - 1].end) fail("breaks", `${sorted[i - 1].name} and ${b.name} overlap.`);
  });
  return ok;
}

async function saveCalendar(event) {
  event.preventDefault();
  if (!validate()) return;
  try {
    state.calendar = await api("PUT", `${schoolPath(state.school)}/calendar`, readCalendar());
    $("#calendar-saved").textContent = "Saved.";
    $("#calendar-source").textContent = "· this school's own";
    await Promise.all([loadAlert(), drawTimeline()]);
  } catch (error) {
    if (error.status === 400 && error.body.field) showError(error.body.field, error.body.message);
    else toast(error.message);
  }
}

// ------------------------------------------------------------------ start
async function start() {
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("token", $("#token-input").value.trim());
    start();
  });
  state.token = readToken();
  state.claims = state.token ? decodeClaims(state.token) : null;
  if (!state.claims) return showSignIn();
  $("#signin").hidden = true;
  $("#app").hidden = false;
  try {
    await loadSchools();
  } catch (error) {
    if (error.status !== 401) toast(error.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#older").addEventListener("click", () => { state.page += 1; loadHistory().catch((e) => toast(e.message)); });
  $("#newer").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); loadHistory().catch((e) => toast(e.message)); });
  $("#close-detail").addEventListener("click", () => { $("#detail").hidden = true; });
  $("#approve").addEventListener("click", () => decide("approve", "Apply this held import to the roster?"));
  $("#discard").addEventListener("click", () => decide("discard", "Discard this held import? The roster stays as it is."));
  $("#rollback").addEventListener("click", () => decide("rollback", "Roll the roster back to before this import?"));
  $("#errors-csv").addEventListener("click", downloadErrors);
  $("#add-break").addEventListener("click", () => addBreak());
  $("#calendar").addEventListener("input", validate);
  $("#calendar").addEventListener("submit", saveCalendar);
  start();
});
