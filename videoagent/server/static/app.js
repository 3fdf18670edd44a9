// The videoagent web app: library, video page (player, scenes, transcript, tags, tracklets, chat),
// search and ingest jobs, over the server's JSON API. No build step and no framework: every element
// is made with h(), which sets text as text, so nothing the index holds is ever read as HTML.
"use strict";

const view = document.getElementById("view");

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function clock(s) {
  s = Math.max(0, Number(s) || 0);
  const hours = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  const mm = hours ? String(m).padStart(2, "0") : String(m);
  return (hours ? hours + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
}

function span(a, b) { return clock(a) + "–" + clock(b); }

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 401) { await login(); return api(path, options); }
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail))) || response.statusText);
  return body;
}

function login() {
  const dialog = document.getElementById("login");
  return new Promise((resolve) => {
    const form = document.getElementById("login-form");
    form.onsubmit = async (event) => {
      event.preventDefault();
      const token = document.getElementById("login-token").value;
      const r = await fetch("/login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token }) });
      if (r.ok) { dialog.close(); resolve(); }
      else document.getElementById("login-error").textContent = "That token is not the server's.";
    };
    if (!dialog.open) dialog.showModal();
  });
}

function frameUrl(videoId, t, width = 320) {
  return `/videos/${encodeURIComponent(videoId)}/frame?t=${Number(t).toFixed(2)}&width=${width}`;
}

function fail(where, error) {
  where.replaceChildren(h("p", { class: "error" }, String(error.message || error)));
}

// ---- routing --------------------------------------------------------------------------------------
let leave = () => {};  // what the current page must stop (an event stream) when another opens

function route() {
  leave(); leave = () => {};
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query || "");
  const parts = (path || "/").split("/").filter(Boolean);
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("here", a.getAttribute("href") === "#/" + (parts[0] || ""));
  if (parts[0] === "video" && parts[1]) return videoPage(decodeURIComponent(parts[1]), Number(params.get("t")) || 0);
  if (parts[0] === "search") return searchPage(params.get("q") || "");
  if (parts[0] === "jobs") return jobsPage();
  return libraryPage(params.get("tag") || "");
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("quick-search").addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = "#/search?q=" + encodeURIComponent(document.getElementById("quick-q").value);
  });
  const state = await fetch("/auth").then((r) => r.json());
  if (state.required && !state.ok) await login();
  route();
});

// ---- library --------------------------------------------------------------------------------------
async function libraryPage(tag) {
  view.replaceChildren(h("h1", {}, "Library"), h("p", { class: "muted" }, "Loading…"));
  let data;
  try { data = await api("/videos" + (tag ? "?tag=" + encodeURIComponent(tag) : "")); } catch (e) { return fail(view, e); }
  const all = tag ? (await api("/videos")).videos : data.videos;
  const tags = [...new Set(all.flatMap((v) => v.tags))].sort();
  const filter = h("input", { type: "text", list: "all-tags", placeholder: "Filter by tag", value: tag, id: "tag-filter",
    onchange: (e) => { location.hash = "#/?tag=" + encodeURIComponent(e.target.value.trim()); } });
  const toolbar = h("div", { class: "toolbar" }, filter, h("datalist", { id: "all-tags" }, tags.map((t) => h("option", { value: t }))),
    tag ? h("a", { href: "#/" }, "clear filter") : null,
    h("span", { class: "muted" }, `${data.videos.length} video${data.videos.length === 1 ? "" : "s"}`));
  const cards = data.videos.map(videoCard);
  view.replaceChildren(h("h1", {}, tag ? `Library: ${tag}` : "Library"), toolbar,
    cards.length ? h("div", { class: "grid", id: "library" }, cards)
      : h("p", { class: "muted" }, tag ? "No video has this tag." : "No videos yet. ", tag ? null : h("a", { href: "#/jobs" }, "Add some.")));
}

function videoCard(v) {
  const name = v.title || v.path.split("/").pop();
  const image = v.thumb_s !== null && v.status === "done" ? h("img", { src: frameUrl(v.video_id, v.thumb_s), alt: "", loading: "lazy" }) : h("div", { class: "noimg" });
  const body = h("div", { class: "body" },
    h("span", { class: "name" }, name),
    h("span", { class: "muted" }, v.duration_s ? clock(v.duration_s) : "", " ", h("span", { class: "badge " + v.status }, v.status), v.segments ? ` ${v.segments} scene${v.segments === 1 ? "" : "s"}` : ""),
    v.error ? h("span", { class: "error" }, v.error) : null,
    h("div", { class: "tags" }, v.tags.slice(0, 8).map((t) => h("a", { class: "tag", href: "#/?tag=" + encodeURIComponent(t) }, t))));
  if (v.status !== "done") return h("div", { class: "card video-card", dataset: { id: v.video_id } }, image, body);
  return h("a", { class: "card video-card", href: "#/video/" + v.video_id, dataset: { id: v.video_id } }, image, body);
}

// ---- video page -----------------------------------------------------------------------------------
async function videoPage(videoId, startAt) {
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  let doc;
  try { doc = await api("/videos/" + encodeURIComponent(videoId)); } catch (e) { return fail(view, e); }
  const id = doc.video_id;
  const player = h("video", { id: "player", controls: true, preload: "metadata", src: `/videos/${id}/media` },
    h("track", { kind: "captions", label: "Transcript", srclang: "en", src: `/videos/${id}/captions.vtt`, default: true }));
  const seek = (t) => {
    const go = () => { player.currentTime = t; player.play().catch(() => {}); };
    if (player.readyState >= 1) go(); else player.addEventListener("loadedmetadata", go, { once: true });
  };
  if (startAt) seek(startAt);

  const strip = h("div", { class: "strip", id: "scenes" }, doc.segments.map((s, i) =>
    h("button", { title: `Scene ${i + 1}, ${span(s.start_s, s.end_s)}`, dataset: { start: s.start_s, end: s.end_s }, onclick: () => seek(s.start_s) },
      h("img", { src: frameUrl(id, s.start_s + Math.min(0.5, (s.end_s - s.start_s) / 2), 160), alt: `scene ${i + 1}`, loading: "lazy" }),
      clock(s.start_s))));

  const lines = [];
  for (const s of doc.segments) {
    if (s.description) lines.push([s.start_s, "scene", s.description]);
    if (s.transcript) lines.push([s.start_s, "said", s.transcript]);
    for (const text of s.ocr) lines.push([s.start_s, "on screen", text]);
  }
  const transcript = h("ul", { class: "lines", id: "transcript" }, lines.map(([t, kind, text]) =>
    h("li", { dataset: { start: t }, onclick: () => seek(t) }, h("span", { class: "t" }, clock(t)), h("span", { class: "kind" }, kind), text)));
  if (!lines.length) transcript.append(h("li", { class: "muted" }, "No speech or on-screen text in this video."));

  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    for (const b of strip.children) b.classList.toggle("now", t >= +b.dataset.start && t < +b.dataset.end);
  });

  const about = doc.title || doc.summary ? h("div", { class: "panel" },
    h("strong", {}, doc.title), " ", doc.summary,
    doc.described_by ? h("div", { class: "muted" }, `written by ${doc.described_by}`) : null,
    doc.chapters.length ? h("ol", { id: "chapters" }, doc.chapters.map((c) =>
      h("li", {}, h("a", { href: "javascript:void 0", onclick: () => seek(c.start_s) }, clock(c.start_s)), " ", c.title))) : null) : null;

  const tags = doc.video_tags.length ? doc.video_tags.map((t) =>
    h("details", {}, h("summary", {}, `${t.tag} `, h("span", { class: "muted" }, t.score.toFixed(2))),
      h("ul", {}, (t.evidence || []).map((e) => h("li", {},
        e.start_s !== undefined ? h("a", { href: "javascript:void 0", onclick: () => seek(e.start_s) }, clock(e.start_s)) : null,
        ` ${e.channel}: ${e.matched || e.text || e.value || ""}`)))))
    : [h("p", { class: "muted" }, "Not tagged yet.")];

  const crops = doc.tracklets.length ? h("div", { class: "crops", id: "tracklets" }, doc.tracklets.slice(0, 60).map((t) =>
    h("figure", { onclick: () => seek(t.start_s), title: `${t.category} ${span(t.start_s, t.end_s)}` },
      t.crop ? h("img", { src: `/tracklets/${encodeURIComponent(t.id)}/crop`, alt: t.category, loading: "lazy" }) : h("div", { class: "noimg" }),
      h("figcaption", {}, `${t.category} ${clock(t.start_s)}`))))
    : h("p", { class: "muted" }, "No tracklets.");

  const left = h("section", {},
    h("h1", {}, doc.title || doc.path.split("/").pop()), player, strip, about,
    h("h2", {}, "Transcript and on-screen text"), transcript,
    h("h2", {}, "Tags"), ...tags,
    h("h2", {}, "Tracklets"), crops,
    h("p", { class: "muted" }, "Export: ", ["srt", "vtt", "json"].map((f) => h("a", { href: `/videos/${id}/export?format=${f}`, download: `${id}.${f}` }, f + " "))));
  view.replaceChildren(h("div", { class: "video-page" }, left, chatPanel(id, seek)));
}

// ---- chat -----------------------------------------------------------------------------------------
function chatPanel(videoId, seek) {
  const key = "videoagent-chat-" + videoId;
  let saved = JSON.parse(localStorage.getItem(key) || "null") || { session: crypto.randomUUID(), turns: [] };
  const log = h("div", { class: "log", id: "chat-log" });
  const input = h("input", { type: "text", id: "chat-input", placeholder: "Ask about this video…", autocomplete: "off" });
  const send = h("button", { type: "submit", id: "chat-send" }, "Ask");
  const store = () => localStorage.setItem(key, JSON.stringify(saved));

  // The chips say where: the span the answer's text ends with need not be said twice.
  const answerBubble = (answer) => h("div", { class: "msg bot" }, answer.answer.replace(/\s*\[[\d.]+-[\d.]+ s\]\s*$/, ""), h("div", {},
    (answer.citations || []).map((c) => h("button", { class: "chip", onclick: () => seek(c.start_s), title: "play from here" }, span(c.start_s, c.end_s)))));
  const show = (turn) => { log.append(h("div", { class: "msg you" }, turn.question)); if (turn.answer) log.append(answerBubble(turn.answer)); };
  saved.turns.forEach(show);

  const reset = h("button", { class: "plain", type: "button", id: "chat-reset", onclick: async () => {
    await fetch("/sessions/" + encodeURIComponent(saved.session), { method: "DELETE", credentials: "same-origin" });
    saved = { session: crypto.randomUUID(), turns: [] }; store(); log.replaceChildren();
  } }, "New chat");

  const form = h("form", { onsubmit: async (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = ""; send.disabled = true;
    log.append(h("div", { class: "msg you" }, question));
    const draft = h("div", { class: "msg bot draft" }, "…");
    log.append(draft); log.scrollTop = log.scrollHeight;
    try {
      const answer = await askStream({ video_id: videoId, question, session: saved.session }, (piece) => {
        if (draft.textContent === "…") draft.textContent = "";
        draft.textContent += piece; log.scrollTop = log.scrollHeight;
      });
      draft.replaceWith(answerBubble(answer));
      saved.turns.push({ question, answer: { answer: answer.answer, citations: answer.citations } }); store();
    } catch (e) {
      draft.replaceWith(h("div", { class: "msg bot error" }, String(e.message || e)));
    }
    send.disabled = false; log.scrollTop = log.scrollHeight; input.focus();
  } }, input, send);
  return h("aside", { class: "chat" }, h("div", { class: "toolbar", style: "padding:.5rem .7rem;margin:0" }, h("strong", {}, "Chat"), reset), log, form);
}

async function askStream(body, onText) {
  // POST, so no EventSource: the server-sent events are read off the response body.
  const response = await fetch("/ask/stream", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (response.status === 401) { await login(); return askStream(body, onText); }
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    throw new Error(typeof detail.detail === "string" ? detail.detail : response.statusText);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const kind = (block.match(/^event: (.*)$/m) || [])[1];
      const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "null");
      if (kind === "text") onText(data);
      else if (kind === "answer") return data;
      else if (kind === "error") throw new Error(data.detail);
    }
  }
  throw new Error("the answer stream ended early");
}

// ---- search ---------------------------------------------------------------------------------------
async function searchPage(q) {
  const input = h("input", { type: "search", id: "search-q", value: q, placeholder: "What are you looking for?", style: "width:24rem" });
  const image = h("input", { type: "file", id: "search-image", accept: "image/*" });
  const results = h("div", { id: "results" });
  const textForm = h("form", { onsubmit: (e) => { e.preventDefault(); location.hash = "#/search?q=" + encodeURIComponent(input.value); } },
    input, " ", h("button", { type: "submit" }, "Search"));
  const imageForm = h("form", { onsubmit: async (e) => {
    e.preventDefault();
    if (!image.files.length) return;
    const body = new FormData(); body.append("image", image.files[0]);
    showHits(results, api("/search/image?top=12", { method: "POST", body }));
  } }, h("label", {}, "or find a picture: ", image), " ", h("button", { type: "submit", class: "plain" }, "Search by image"));
  view.replaceChildren(h("h1", {}, "Search"), h("div", { class: "toolbar" }, textForm, imageForm), results);
  document.getElementById("quick-q").value = q;
  if (q.trim()) showHits(results, api("/search?top=12&q=" + encodeURIComponent(q)));
}

async function showHits(where, pending) {
  where.replaceChildren(h("p", { class: "muted" }, "Searching…"));
  let found, names = {};
  try {
    found = await pending;
    for (const v of (await api("/videos?status=done")).videos) names[v.video_id] = v.title || v.path.split("/").pop();
  } catch (e) { return fail(where, e); }
  const warnings = found.warnings.map((w) => h("p", { class: "muted" }, "Note: " + w));
  if (!found.results.length) return where.replaceChildren(...warnings, h("p", {}, "Nothing found."));
  where.replaceChildren(...warnings, h("div", { class: "grid" }, found.results.map((r) =>
    h("a", { class: "card hit", href: `#/video/${r.video_id}?t=${r.start_s}`, dataset: { start: r.start_s } },
      h("img", { src: frameUrl(r.video_id, r.start_s + Math.min(0.5, (r.end_s - r.start_s) / 2)), alt: "", loading: "lazy" }),
      h("div", { class: "body" }, h("span", { class: "name" }, names[r.video_id] || r.video_id),
        h("span", { class: "muted" }, span(r.start_s, r.end_s), ` · score ${r.score.toFixed(2)}`),
        h("span", { class: "why" }, r.why))))));
}

// ---- jobs -----------------------------------------------------------------------------------------
async function jobsPage() {
  const files = h("input", { type: "file", id: "upload-files", multiple: true, accept: "video/*" });
  const status = h("p", { class: "muted", id: "upload-status" });
  const upload = h("form", { class: "panel", onsubmit: async (e) => {
    e.preventDefault();
    if (!files.files.length) return;
    const body = new FormData();
    for (const f of files.files) body.append("files", f);
    status.textContent = "Uploading…";
    try { await api("/jobs/upload", { method: "POST", body }); status.textContent = "Queued."; files.value = ""; }
    catch (err) { status.textContent = ""; status.append(h("span", { class: "error" }, err.message)); }
  } }, h("h2", { style: "margin-top:0" }, "Upload videos"), files, " ", h("button", { type: "submit", id: "upload-send" }, "Upload and ingest"), status);

  let listing;
  try { listing = await api("/jobs"); } catch (e) { return fail(view, e); }
  const folder = h("input", { type: "text", id: "folder", placeholder: listing.media_roots[0] || "", style: "width:24rem" });
  const folderStatus = h("span", { class: "muted" });
  const folderForm = listing.media_roots.length ? h("form", { class: "panel", onsubmit: async (e) => {
    e.preventDefault();
    try { await api("/jobs/ingest", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ folder: folder.value }) }); folderStatus.textContent = " Queued."; }
    catch (err) { folderStatus.textContent = " " + err.message; }
  } }, h("h2", { style: "margin-top:0" }, "Ingest a folder"), h("p", { class: "muted" }, "Under: " + listing.media_roots.join(", ")), folder, " ",
  h("button", { type: "submit" }, "Ingest"), folderStatus) : null;

  const tagAll = h("form", { class: "panel", onsubmit: async (e) => {
    e.preventDefault();
    await api("/jobs/tag", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ video_ids: [] }) });
  } }, h("h2", { style: "margin-top:0" }, "Tag"), h("button", { type: "submit", class: "plain", id: "tag-all" }, "Tag every video with the default library"));

  const list = h("div", { id: "jobs" });
  const render = (jobs) => list.replaceChildren(...(jobs.length ? jobs.map(jobCard) : [h("p", { class: "muted" }, "No jobs yet.")]));
  render(listing.jobs);
  view.replaceChildren(...[h("h1", {}, "Add videos"), upload, folderForm, tagAll, h("h2", {}, "Jobs"), list].filter(Boolean));
  const events = new EventSource("/jobs/events");
  events.addEventListener("jobs", (e) => render(JSON.parse(e.data)));
  leave = () => events.close();
}

function jobCard(job) {
  const p = job.progress || {};
  const now = job.status === "running" && p.file ? ` — ${p.file.split("/").pop()}: ${p.stage || "…"}` : "";
  return h("div", { class: "job", dataset: { id: job.id, status: job.status } },
    h("span", { class: "badge " + job.status }, job.status), ` ${job.kind} of ${job.paths.length ? job.paths.map((x) => x.split("/").pop()).join(", ") : "every video"}${now}`,
    job.error ? h("div", { class: "error" }, job.error) : null,
    job.results.length ? h("ul", {}, job.results.map((r) => h("li", {},
      h("span", { class: "badge " + r.status }, r.status), " ",
      r.video_id && r.status !== "failed" && job.kind === "ingest" ? h("a", { href: "#/video/" + r.video_id }, (r.path || r.video_id).split("/").pop()) : (r.path || r.video_id || "").split("/").pop(),
      r.error ? h("span", { class: "error" }, " " + r.error) : null))) : null);
}
