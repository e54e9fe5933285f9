/// The node's dashboard: one self-contained HTML page (no external scripts or fonts) that
/// polls this node's API every 2 s and draws peers, round progress, accuracy and ε curves
/// (inline SVG), the log's checkpoint and witnesses, top contributors, open proposals and spot checks.
/// Why a string: the binary stays one file to copy to a device, with no resource bundle.
enum Dashboard {
    /// The page as UTF-8, encoded once (not on every request).
    static let bytes = Array(html.utf8)

    /// `GET /` and `GET /dashboard`.
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Murmur node</title>
<style>
  :root { --fg: #1d2733; --muted: #6b7785; --line: #d9dee4; --accent: #2f6fb3; --accent2: #c0562f; --bg: #f7f8fa; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 14px 22px; background: #fff; border-bottom: 1px solid var(--line); display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: var(--muted); font-family: ui-monospace, monospace; font-size: 12px; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; padding: 16px 22px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
  section h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 260px; }
  th { color: var(--muted); font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .mono { font-family: ui-monospace, monospace; font-size: 12px; }
  .big { font-size: 26px; font-weight: 600; }
  .kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
  .kv div:nth-child(odd) { color: var(--muted); }
  pre { margin: 0; font-size: 11px; white-space: pre-wrap; word-break: break-all; background: var(--bg); padding: 8px; border-radius: 6px; }
  svg { width: 100%; height: 180px; }
  .empty { color: var(--muted); font-style: italic; }
  .status-ok { color: #2a7d3b; } .status-bad { color: #b3261e; }
  footer { color: var(--muted); font-size: 12px; padding: 0 22px 16px; }
</style>
</head>
<body>
<header>
  <h1>Murmur node</h1>
  <span class="meta" id="peer-id">…</span>
  <span class="meta" id="roles"></span>
  <span class="meta" id="uptime"></span>
  <span class="meta" id="fetch-status"></span>
</header>
<main>
  <section>
    <h2>Rounds</h2>
    <div class="kv">
      <div>completed</div><div class="big" id="rounds-completed">–</div>
      <div>latest</div><div id="round-latest">–</div>
      <div>model</div><div class="mono" id="round-model">–</div>
    </div>
    <svg id="accuracy-plot" viewBox="0 0 400 180" preserveAspectRatio="none" aria-label="accuracy per round"></svg>
  </section>
  <section>
    <h2>Privacy budget</h2>
    <div class="kv">
      <div>ε spent (ledger)</div><div class="big" id="epsilon-spent">–</div>
      <div>ε budget</div><div id="epsilon-budget">–</div>
    </div>
    <svg id="epsilon-plot" viewBox="0 0 400 180" preserveAspectRatio="none" aria-label="epsilon per round"></svg>
  </section>
  <section>
    <h2>Peers</h2>
    <table id="peers-table"><thead><tr><th>peer</th><th class="num">conns</th><th>address</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Log checkpoint and witnesses</h2>
    <div class="kv">
      <div>origin</div><div class="mono" id="log-origin">–</div>
      <div>size</div><div id="log-size">–</div>
      <div>witnesses</div><div id="log-witnesses">–</div>
      <div>state digest</div><div class="mono" id="ledger-digest">–</div>
    </div>
    <pre id="checkpoint">–</pre>
  </section>
  <section>
    <h2>Top contributors</h2>
    <table id="contributors-table"><thead><tr><th>device</th><th class="num">credits</th><th class="num">reputation</th><th class="num">receipts</th></tr></thead><tbody></tbody></table>
    <div class="kv" style="margin-top:8px"><div>minted</div><div id="minted">–</div><div>burned</div><div id="burned">–</div></div>
  </section>
  <section>
    <h2>Open proposals</h2>
    <table id="proposals-table"><thead><tr><th>#</th><th>changes</th><th class="num">yes</th><th class="num">no</th><th>voting until</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Spot checks</h2>
    <table id="spot-checks-table"><thead><tr><th>device</th><th class="num">checked</th><th class="num">failed</th><th class="num">reputation</th><th>reasons</th><th>last check</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<footer>Refreshes every 2 s from this node's API (<a href="/v1/status">/v1/status</a>, <a href="/v1/rounds">/v1/rounds</a>, <a href="/v1/peers">/v1/peers</a>, <a href="/v1/ledger/state">/v1/ledger/state</a>, <a href="/v1/spot-checks">/v1/spot-checks</a>, <a href="/metrics">/metrics</a>).</footer>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const short = (s) => (s && s.length > 20 ? s.slice(0, 10) + "…" + s.slice(-6) : (s ?? "–"));
function text(id, v) { $(id).textContent = v; }
function rows(table, list, cells, empty) {
  const body = $(table).querySelector("tbody");
  body.replaceChildren();
  if (list.length === 0) {
    const tr = document.createElement("tr"), td = document.createElement("td");
    td.colSpan = 9; td.className = "empty"; td.textContent = empty; tr.append(td); body.append(tr); return;
  }
  for (const item of list) {
    const tr = document.createElement("tr");
    for (const [value, cls, title] of cells(item)) {
      const td = document.createElement("td");
      td.textContent = value; if (cls) td.className = cls; if (title) td.title = title;
      tr.append(td);
    }
    body.append(tr);
  }
}
// A line plot of (x, y) points into an SVG with axes and min/max labels; no library needed.
function plot(id, points, color, format) {
  const svg = $(id), W = 400, H = 180, L = 44, R = 8, T = 10, B = 22;
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const el = (name, attrs, content) => {
    const e = document.createElementNS(ns, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (content !== undefined) e.textContent = content;
    svg.append(e); return e;
  };
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#d9dee4" });
  el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#d9dee4" });
  if (points.length === 0) { el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#6b7785", "font-size": 12 }, "no data yet"); return; }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  const sx = (x) => L + (x - x0) / (x1 - x0) * (W - L - R), sy = (y) => H - B - (y - y0) / (y1 - y0) * (H - B - T);
  el("path", { d: points.map((p, i) => (i ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1)).join(" "),
               fill: "none", stroke: color, "stroke-width": 2, "data-points": points.length });
  for (const p of points) el("circle", { cx: sx(p[0]).toFixed(1), cy: sy(p[1]).toFixed(1), r: 2.5, fill: color });
  el("text", { x: L - 4, y: T + 8, "text-anchor": "end", "font-size": 10, fill: "#6b7785" }, format(y1));
  el("text", { x: L - 4, y: H - B, "text-anchor": "end", "font-size": 10, fill: "#6b7785" }, format(y0));
  el("text", { x: L, y: H - 6, "font-size": 10, fill: "#6b7785" }, "round " + x0);
  el("text", { x: W - R, y: H - 6, "text-anchor": "end", "font-size": 10, fill: "#6b7785" }, "round " + x1);
}
async function get(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}
async function refresh() {
  try {
    const [status, peers, rounds, ledger, spot] = await Promise.all([get("/v1/status"), get("/v1/peers"), get("/v1/rounds?limit=1000"), get("/v1/ledger/state"), get("/v1/spot-checks")]);
    text("peer-id", status.peer_id);
    text("roles", "roles: " + status.roles.join(", "));
    text("uptime", "up " + status.uptime_seconds + " s");
    text("rounds-completed", status.rounds_completed);
    const list = (rounds.rounds || []).slice().sort((a, b) => a.round - b.round);
    const latest = list[list.length - 1];
    text("round-latest", latest ? `round ${latest.round}: ${latest.status}, ${latest.participants} clients` + (latest.accuracy != null ? `, accuracy ${(100 * latest.accuracy).toFixed(2)} %` : "") : "none yet");
    text("round-model", latest && latest.model ? latest.model : "–");
    plot("accuracy-plot", list.filter((r) => r.accuracy != null).map((r) => [r.round, 100 * r.accuracy]), "#2f6fb3", (v) => v.toFixed(1) + " %");
    plot("epsilon-plot", list.filter((r) => r.epsilon != null).map((r) => [r.round, r.epsilon]), "#c0562f", (v) => v.toFixed(2));
    rows("peers-table", peers.connected || [], (p) => [[short(p.peer_id), "mono", p.peer_id], [p.connections, "num"], [(p.addresses || [])[0] || "", "mono"]], "no peers connected");
    const state = ledger.state || {};
    text("log-origin", status.log.origin);
    text("log-size", ledger.size + " entries");
    text("ledger-digest", short(ledger.digest));
    const cp = ledger.checkpoint || "";
    $("checkpoint").textContent = cp || "no checkpoint yet";
    // Signature lines name their signer; the log's own signature is not a witness's.
    const origin = cp.split("\n")[0];
    const sigs = cp.split("\n").filter((l) => l.startsWith("— ")).map((l) => l.slice(2).split(" ")[0]).filter((n) => n !== origin);
    text("log-witnesses", sigs.length ? sigs.length + " cosignature(s): " + sigs.join(", ") : "none yet");
    const eps = state.epsilon_spent_micros;
    text("epsilon-spent", eps != null ? (eps / 1e6).toFixed(3) : "–");
    const budget = state.parameters && state.parameters.epsilon_budget_micros;
    text("epsilon-budget", budget != null ? (budget / 1e6).toFixed(3) : "–");
    const balances = state.balances || {}, reputation = state.reputation || {}, receipts = state.receipts || {};
    const devices = Object.keys(balances).sort((a, b) => balances[b] - balances[a] || a.localeCompare(b)).slice(0, 10);
    rows("contributors-table", devices, (d) => [[short(d), "mono", d], [balances[d], "num"], [reputation[d] ?? 0, "num"], [receipts[d] ?? 0, "num"]], "no rewards yet");
    text("minted", state.minted ?? "–"); text("burned", state.burned ?? "–");
    const open = Object.entries(state.proposals || {}).filter(([, p]) => p.status === "open");
    rows("proposals-table", open, ([k, p]) => [[k], [JSON.stringify(p.proposal && p.proposal.changes || {}), "mono"], [p.yes, "num"], [p.no, "num"], ["round " + p.last_round]], "no open proposals");
    rows("spot-checks-table", spot.devices || [], (d) => [[short(d.device), "mono", d.device], [d.checked, "num"], [d.failed, "num"], [d.reputation, "num"],
      [d.reasons.join(", ") || "–"], [d.last_check ? new Date(d.last_check * 1000).toLocaleTimeString() : "–"]], spot.verifier ? "no receipts checked yet" : "not a verifier");
    text("fetch-status", "updated " + new Date().toLocaleTimeString());
    $("fetch-status").className = "meta status-ok";
  } catch (e) {
    text("fetch-status", "API unreachable: " + e.message);
    $("fetch-status").className = "meta status-bad";
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"""#
}
