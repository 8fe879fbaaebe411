// The FedLedger dashboard: reads the read-only JSON API and draws tables and SVG charts.
// Served by fl-coordinator ([http] listen) and by `fl-ledger serve` (ledger panels only).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];
const PHASES = [["collect_seconds", "collect", "#2563eb"], ["aggregate_seconds", "aggregate", "#ea580c"],
                ["eval_seconds", "evaluate", "#16a34a"], ["ledger_seconds", "ledger", "#9333ea"]];
let token = new URLSearchParams(location.hash.slice(1)).get("token") || sessionStorage.getItem("fl-token") || "";
let selectedBlock = null;

async function api(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const res = await fetch(path, { headers, cache: "no-store" });
  if (res.status === 401) { document.getElementById("token-form").hidden = false; throw new Error("token needed"); }
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(path + ": HTTP " + res.status);
  return res.json();
}

function el(tag, attrs = {}, ...children) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const fixed = (x, n = 4) => (x === undefined || x === null ? "" : Number(x).toFixed(n));
const shortHex = (h) => h.slice(0, 16);
const ago = (ms) => { const s = Math.max(0, (Date.now() - ms) / 1000); return s < 90 ? s.toFixed(0) + " s ago" : (s / 60).toFixed(0) + " min ago"; };

function setRows(tableId, rows) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren(...rows);
}

// A line chart: series = [{name, color, points: [[x, y]...]}]; y from ymin to ymax.
function lineChart(svg, series, opts) {
  const W = 640, H = 240, L = 52, R = opts.right ? 52 : 16, T = 24, B = 30;
  svg.replaceChildren();
  const all = series.flatMap((s) => s.points);
  if (!all.length) { svg.append(el("svg:text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no rounds yet")); return; }
  const xmax = Math.max(1, ...all.map((p) => p[0])), xmin = Math.min(...all.map((p) => p[0]));
  const X = (x) => L + (xmax === xmin ? 0.5 : (x - xmin) / (xmax - xmin)) * (W - L - R);
  for (const [i, s] of series.entries()) {
    const [lo, hi] = s.range || opts.range;
    const Y = (y) => T + (1 - (y - lo) / (hi - lo || 1)) * (H - T - B);
    if (i === 0 || s.axis === "right") {
      for (let k = 0; k <= 4; k++) {
        const v = lo + ((hi - lo) * k) / 4, y = Y(v);
        if (i === 0) svg.append(el("svg:line", { class: "grid", x1: L, x2: W - R, y1: y, y2: y }));
        const right = s.axis === "right";
        svg.append(el("svg:text", { x: right ? W - R + 4 : L - 4, y: y + 4, "text-anchor": right ? "start" : "end" },
                      s.format ? s.format(v) : v.toPrecision(3)));
      }
    }
    const d = s.points.map((p, j) => (j ? "L" : "M") + X(p[0]).toFixed(1) + " " + Y(p[1]).toFixed(1)).join(" ");
    svg.append(el("svg:path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "data-series": s.name }));
    for (const p of s.points) svg.append(el("svg:circle", { cx: X(p[0]), cy: Y(p[1]), r: 2.5, fill: s.color }));
    svg.append(el("svg:rect", { x: L + 8 + i * 150, y: 6, width: 10, height: 10, fill: s.color }));
    svg.append(el("svg:text", { x: L + 22 + i * 150, y: 15 }, s.name));
  }
  svg.append(el("svg:line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  const step = Math.max(1, Math.ceil((xmax - xmin + 1) / 12));
  for (let x = xmin; x <= xmax; x += step) svg.append(el("svg:text", { x: X(x), y: H - B + 14, "text-anchor": "middle" }, x));
  svg.append(el("svg:text", { x: W / 2, y: H - 2, "text-anchor": "middle" }, "round"));
}

function phaseChart(svg, rounds) {
  const W = 640, H = 240, L = 52, R = 16, T = 24, B = 30;
  svg.replaceChildren();
  if (!rounds.length) { svg.append(el("svg:text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no rounds yet")); return; }
  const total = (r) => PHASES.reduce((a, [k]) => a + (r[k] || 0), 0);
  const ymax = Math.max(1e-3, ...rounds.map(total)) * 1.1;
  const Y = (v) => T + (1 - v / ymax) * (H - T - B);
  for (let k = 0; k <= 4; k++) {
    const v = (ymax * k) / 4;
    svg.append(el("svg:line", { class: "grid", x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
    svg.append(el("svg:text", { x: L - 4, y: Y(v) + 4, "text-anchor": "end" }, v.toPrecision(2) + " s"));
  }
  const bw = (W - L - R) / rounds.length;
  rounds.forEach((r, i) => {
    let base = 0;
    for (const [key, name, color] of PHASES) {
      const v = r[key] || 0;
      svg.append(el("svg:rect", { x: L + i * bw + bw * 0.15, width: bw * 0.7, y: Y(base + v), height: Math.max(0, Y(base) - Y(base + v)),
                                  fill: color, "data-phase": name }, el("svg:title", {}, `round ${r.round} ${name}: ${fixed(v, 3)} s`)));
      base += v;
    }
    if (rounds.length <= 30 || i % Math.ceil(rounds.length / 30) === 0)
      svg.append(el("svg:text", { x: L + (i + 0.5) * bw, y: H - B + 14, "text-anchor": "middle" }, r.round));
  });
  PHASES.forEach(([, name, color], i) => {
    svg.append(el("svg:rect", { x: L + 8 + i * 100, y: 6, width: 10, height: 10, fill: color }));
    svg.append(el("svg:text", { x: L + 22 + i * 100, y: 15 }, name));
  });
  svg.append(el("svg:line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
}

function renderJob(job) {
  document.getElementById("title").textContent = "— job " + job.job;
  const dl = document.getElementById("job");
  const items = [["job", job.job], ["state", job.state], ["model", job.model], ["rule", job.rule], ["scorer", job.scorer],
                 ["rounds", job.rounds_done + " of " + job.rounds], ["reward per round", job.reward_per_round],
                 ["min workers", job.min_workers]];
  dl.replaceChildren(...items.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { "data-field": k.replaceAll(" ", "_") }, v)]));
}

function renderRounds(rounds) {
  lineChart(document.getElementById("chart-accuracy"), [
    { name: "test accuracy", color: COLORS[0], range: [0, 1], points: rounds.map((r) => [r.round, r.test_accuracy]),
      format: (v) => (100 * v).toFixed(0) + "%" },
    { name: "test loss", color: COLORS[1], axis: "right", range: [0, Math.max(1e-6, ...rounds.map((r) => r.test_loss)) * 1.1],
      points: rounds.map((r) => [r.round, r.test_loss]) },
  ], { right: true });
  phaseChart(document.getElementById("chart-phases"), rounds);
  setRows("rounds", rounds.slice().reverse().map((r) => el("tr", { "data-round": r.round },
    ...[["round", r.round], ["sampled", r.sampled], ["accepted", r.accepted], ["rejected", r.rejected],
        ["test_accuracy", fixed(r.test_accuracy)], ["test_loss", fixed(r.test_loss)], ["round_seconds", fixed(r.round_seconds, 2)],
        ["ledger_height", r.ledger_height], ["minted", r.minted], ["close_reason", r.close_reason]]
      .map(([f, v]) => el("td", { "data-field": f }, v)))));
}

function renderWorkers(workers) {
  setRows("workers", workers.map((w) => el("tr", { "data-worker": w.worker },
    el("td", {}, el("code", { title: w.worker }, w.short_id)),
    el("td", { "data-field": "state" }, w.state),
    el("td", { "data-field": "last_seen" }, w.last_seen_ms ? ago(w.last_seen_ms) : "—"),
    el("td", { "data-field": "accepted" }, w.accepted),
    el("td", { "data-field": "rejected" }, w.rejected),
    el("td", { "data-field": "reasons", title: w.last_rejection || "" },
       Object.entries(w.reasons || {}).map(([k, n]) => k + " ×" + n).join(", ") || "—"),
    el("td", { "data-field": "earned" }, w.earned))));
}

// Cumulative reward per worker after each round, from the ledger's round results.
function renderRewards(rounds, jobId) {
  const mine = rounds.filter((r) => !jobId || r.job === jobId).sort((a, b) => a.round - b.round);
  const totals = new Map(), series = new Map();
  for (const r of mine) {
    for (const u of r.updates) if (u.accepted) totals.set(u.worker, (totals.get(u.worker) || 0) + u.reward);
    for (const [w, t] of totals) {
      if (!series.has(w)) series.set(w, []);
      series.get(w).push([r.round, t]);
    }
  }
  const ymax = Math.max(1, ...totals.values()) * 1.05;
  const list = [...series.entries()].slice(0, COLORS.length).map(([w, points], i) =>
    ({ name: w.slice(0, 8), color: COLORS[i], range: [0, ymax], points, format: (v) => v.toFixed(0) }));
  lineChart(document.getElementById("chart-rewards"), list, {});
}

function renderBlocks(blocks) {
  setRows("blocks", blocks.map((b) => el("tr", { "data-height": b.height },
    el("td", {}, b.height), el("td", {}, el("code", { title: b.hash }, shortHex(b.hash))),
    el("td", {}, el("code", { title: b.merkle_root }, shortHex(b.merkle_root))), el("td", {}, b.tx_count), el("td", { title: b.time }, b.time.slice(5, 19)),
    el("td", {}, el("a", { href: "#block=" + b.height, "data-block": b.height, title: "transactions and Merkle proofs" }, "proofs")))));
  for (const a of document.querySelectorAll("#blocks a[data-block]")) {
    a.onclick = (e) => { e.preventDefault(); selectedBlock = Number(a.dataset.block); showBlock(); };
  }
}

async function showBlock() {
  const box = document.getElementById("block-detail");
  if (selectedBlock === null) return;
  const b = await api("/api/ledger/blocks/" + selectedBlock);
  if (!b) { box.textContent = "no block " + selectedBlock; return; }
  const rows = b.transactions.map((t) => el("tr", {},
    el("td", {}, t.index), el("td", {}, t.type), el("td", {}, el("code", { title: t.hash }, shortHex(t.hash))), el("td", {}, t.summary),
    el("td", { class: "proof" }, t.proof ? `leaf ${t.proof.leaf_index} of ${t.proof.tree_size}; path ` +
      (t.proof.proof.map(shortHex).join(" → ") || "(single leaf)") : ""),
    el("td", {}, el("a", { href: "/api/ledger/tx/" + t.hash }, "JSON"))));
  box.replaceChildren(el("h3", {}, `Block ${b.height} `, el("code", {}, b.hash)),
    el("p", { class: "muted" }, `Merkle root ${b.merkle_root} · proposer ${b.proposer.slice(0, 16)} · `,
       el("a", { href: "/api/ledger/blocks/" + b.height }, "block JSON")),
    el("table", {}, el("thead", {}, el("tr", {}, ...["#", "type", "hash", "summary", "Merkle proof", ""].map((h) => el("th", {}, h)))),
       el("tbody", {}, ...rows)));
}

function renderVerify(v) {
  const box = document.getElementById("verify");
  if (!v) { box.textContent = "no ledger"; return; }
  box.className = "";
  box.replaceChildren(
    el("p", { class: v.ok ? "ok" : "bad", id: "verify-result" }, v.ok ? "✔ chain verified" : "✘ " + (v.failure ? v.failure.message : "failed")),
    el("dl", {}, ...[["blocks", v.blocks], ["transactions", v.transactions], ["signatures checked", v.signatures_checked],
                     ["tokens minted", v.minted], ["slashed", v.slashed], ["head", shortHex(v.head_hash)]]
      .flatMap(([k, val]) => [el("dt", {}, k), el("dd", { "data-field": k.replaceAll(" ", "_") }, val)])));
}

let finished = false;
async function refresh() {
  const status = document.getElementById("status");
  try {
    const job = await api("/api/job");
    for (const e of document.querySelectorAll(".coordinator-only")) e.hidden = !job;
    if (job) {
      renderJob(job);
      renderRounds((await api("/api/rounds")) || []);
      renderWorkers((await api("/api/workers")) || []);
      finished = job.state === "finished";
    } else {
      document.getElementById("title").textContent = "— ledger";
    }
    const ledgerRounds = (await api("/api/ledger/rounds" + (job ? "?job=" + encodeURIComponent(job.job) : ""))) || [];
    renderRewards(ledgerRounds, job && job.job);
    if (!job) renderWorkers(workersFromLedger(ledgerRounds));
    const blocks = await api("/api/ledger/blocks?limit=12");
    renderBlocks(blocks ? blocks.blocks : []);
    renderVerify(await api("/api/ledger/verify"));
    await showBlock();
    status.textContent = (job ? job.state + " · " : "") + "updated " + new Date().toLocaleTimeString() + (finished ? "" : " · refreshing every 2 s");
    document.body.dataset.ready = "1";
  } catch (e) {
    status.textContent = "could not load: " + e.message;
  }
}

// Without a coordinator (fl-ledger serve): each worker's accepted and rejected updates as the ledger has them.
function workersFromLedger(rounds) {
  const m = new Map();
  for (const r of rounds) for (const u of r.updates) {
    const w = m.get(u.worker) || { worker: u.worker, short_id: u.worker.slice(0, 8), state: "—", accepted: 0, rejected: 0, earned: 0, reasons: {} };
    // Reasons that differ only in their numbers ("update norm 86.3 exceeds limit 8") count as one.
    const reason = u.reason.replace(/-?[0-9][0-9.e+-]*/g, "N");
    if (u.accepted) { w.accepted++; w.earned += u.reward; } else { w.rejected++; w.reasons[reason] = (w.reasons[reason] || 0) + 1; }
    m.set(u.worker, w);
  }
  return [...m.values()];
}

document.getElementById("token-form").onsubmit = (e) => {
  e.preventDefault();
  token = document.getElementById("token").value.trim();
  sessionStorage.setItem("fl-token", token);
  document.getElementById("token-form").hidden = true;
  refresh();
};
const hashBlock = new URLSearchParams(location.hash.slice(1)).get("block");
if (hashBlock) selectedBlock = Number(hashBlock);
refresh();
setInterval(() => { if (!finished) refresh(); }, 2000);
