// The operator console: Preact + htm (no build step), uPlot for the charts. State arrives over
// server-sent events from /api/events: a full snapshot once a second, execution reports as
// they are journaled. The admin token stays in this page's memory only.
import { h, render } from "./vendor/preact.module.js";
import { useEffect, useRef, useState } from "./vendor/hooks.module.js";
import htm from "./vendor/htm.module.js";
import uPlot from "./vendor/uPlot.esm.js";

const html = htm.bind(h);
const TERMINAL = new Set(["FILLED", "CANCELED", "REJECTED", "EXPIRED", "REPLACED"]);
const MAX_REPORTS = 100;

function fmtAge(s) {
  if (s == null) return "";
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function applyReport(state, r) {
  const reports = [r, ...state.reports.filter((x) => x.exec_id !== r.exec_id)].slice(0, MAX_REPORTS);
  const accounts = state.accounts.map((a) => {
    if (a.account !== r.account) return a;
    // Client order ids belong to sessions: two sessions may each have an order "c1".
    const others = a.open_orders.filter(
      (o) => o.session_id !== r.session_id || o.client_order_id !== r.client_order_id,
    );
    if (TERMINAL.has(r.ord_status)) return { ...a, open_orders: others };
    const order = {
      client_order_id: r.client_order_id, venue_order_id: r.venue_order_id,
      session_id: r.session_id, symbol: r.symbol, side: r.side, order_type: r.order_type,
      status: r.ord_status, qty: r.order_qty, price: r.price, cum_qty: r.cum_qty,
    };
    return { ...a, open_orders: [order, ...others] };
  });
  return { ...state, reports, accounts };
}

function useConsoleState() {
  const [state, setState] = useState(null);
  const [live, setLive] = useState(false);
  useEffect(() => {
    const source = new EventSource("/api/events");
    source.addEventListener("open", () => setLive(true));
    source.addEventListener("error", () => setLive(false));
    source.addEventListener("state", (e) => {
      const snap = JSON.parse(e.data);
      snap.reports = snap.reports.slice().reverse();
      setState(snap);
    });
    source.addEventListener("report", (e) => {
      const r = JSON.parse(e.data);
      setState((s) => (s ? applyReport(s, r) : s));
    });
    return () => source.close();
  }, []);
  return [state, live];
}

async function adminCall(token, path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Authorization": `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status}: ${text}`);
  return JSON.parse(text);
}

function AdminBar({ admin, setAdmin, enabled }) {
  const [draft, setDraft] = useState("");
  const [error, setError] = useState("");
  if (!enabled) return html`<span class="muted note">read-only (no admin token configured)</span>`;
  if (admin) {
    return html`<span class="pill ok" data-testid="admin-on">admin</span>
      <button onClick=${() => setAdmin(null)}>Lock</button>`;
  }
  const unlock = async (e) => {
    e.preventDefault();
    const response = await fetch("/api/admin", { headers: { "Authorization": `Bearer ${draft}` } });
    const body = await response.json();
    if (body.admin) { setAdmin(draft); setError(""); } else { setError("wrong token"); }
    setDraft("");
  };
  return html`<form onSubmit=${unlock}>
    <input type="password" autocomplete="off" placeholder="admin token" data-testid="admin-token"
      value=${draft} onInput=${(e) => setDraft(e.target.value)} />
    <button type="submit" data-testid="admin-unlock">Unlock</button>
    ${error && html` <span class="bad note" data-testid="admin-error">${error}</span>`}
  </form>`;
}

function Sessions({ sessions, admin, onError }) {
  return html`<section class="wide"><h2>Sessions</h2>
    <table><thead><tr><th>session</th><th>account</th><th>since</th><th>lease</th>
      <th>heartbeat age</th><th>cancel on disconnect</th><th>streams</th><th></th></tr></thead>
    <tbody>${sessions.map((s) => html`<tr data-session=${s.session_id}>
      <td>${s.session_id}${s.drop_copy ? html` <span class="pill muted">drop copy</span>` : ""}</td>
      <td>${s.account}</td><td>${new Date(s.since).toLocaleString()}</td>
      <td>${s.leased ? "key leased" : html`<span class="muted">none</span>`}</td>
      <td class=${s.heartbeat_age_s > s.heartbeat_timeout_s / 2 ? "warn" : ""}>
        ${fmtAge(s.heartbeat_age_s)} / ${s.heartbeat_timeout_s} s</td>
      <td>${s.cancel_on_disconnect ? "yes" : "no"}</td><td>${s.open_streams}</td>
      <td><button disabled=${!admin} data-logout=${s.session_id}
        onClick=${() => adminCall(admin, `/api/sessions/${encodeURIComponent(s.session_id)}/logout`)
          .catch(onError)}>Log out</button></td></tr>`)}
      ${sessions.length === 0 && html`<tr><td colspan="8" class="muted">no live session</td></tr>`}
    </tbody></table></section>`;
}

function DeadMan({ v }) {
  if (v.dead_man_expires_in_s == null) {
    return html`<span class="muted">${v.dead_man_armed ? "arming" : "off"}</span>`;
  }
  const left = v.dead_man_expires_in_s;
  const cls = !v.dead_man_armed ? "bad" : left < v.dead_man_timeout_s / 3 ? "warn" : "ok";
  return html`<span class=${cls} data-testid="dead-man">
    ${v.dead_man_armed ? "armed" : "lapsing"}: ${left.toFixed(0)} s of ${v.dead_man_timeout_s} s</span>`;
}

function Accounts({ accounts, admin, onError }) {
  return html`<section class="wide"><h2>Accounts and keys</h2>
    <table><thead><tr><th>account</th><th>venue</th><th>key</th><th>status</th>
      <th>dead man's switch</th><th>kill switch</th></tr></thead>
    <tbody>${accounts.map((a) => {
      const venues = a.venues.length ? a.venues : [null];
      return venues.map((v, i) => html`<tr data-account=${a.account}>
        <td>${i === 0 ? a.account : ""}</td>
        <td>${a.venue_kind}</td>
        <td><code>${v ? v.key_id : ""}</code></td>
        <td>${v ? html`<span class=${v.connected ? "ok" : "bad"}>
          ${v.connected ? "connected" : "disconnected"}</span> · ${v.system_status}` : "in process"}</td>
        <td>${v ? html`<${DeadMan} v=${v} />` : ""}</td>
        <td>${i === 0 && html`<span class=${a.kill_switch ? "bad" : "muted"}
            data-kill-state=${a.account}>${a.kill_switch ? "ENGAGED" : "off"}</span>${" "}
          <button class="danger" disabled=${!admin} data-kill=${a.account}
            onClick=${() => adminCall(admin, `/api/accounts/${encodeURIComponent(a.account)}/kill-switch`,
              { active: !a.kill_switch }).catch(onError)}>
            ${a.kill_switch ? "Release" : "Engage"}</button>`}</td></tr>`);
    })}</tbody></table></section>`;
}

function OpenOrders({ accounts }) {
  const rows = accounts.flatMap((a) => a.open_orders.map((o) => ({ ...o, account: a.account })));
  return html`<section><h2>Open orders</h2>
    <table><thead><tr><th>account</th><th>session</th><th>client order id</th><th>symbol</th>
      <th>side</th><th>qty</th><th>price</th><th>filled</th><th>status</th></tr></thead>
    <tbody>${rows.map((o) => html`<tr data-order=${o.client_order_id} data-session=${o.session_id}>
      <td>${o.account}</td><td>${o.session_id}</td><td>${o.client_order_id}</td><td>${o.symbol}</td>
      <td>${o.side}</td><td>${o.qty}</td><td>${o.price ?? "market"}</td>
      <td class="cum">${o.cum_qty}</td><td class="status">${o.status}</td></tr>`)}
      ${rows.length === 0 && html`<tr><td colspan="9" class="muted">no open order</td></tr>`}
    </tbody></table></section>`;
}

function Reports({ reports }) {
  return html`<section class="wide"><h2>Last execution reports (live)</h2>
    <table><thead><tr><th>time</th><th>session</th><th>seq</th><th>client order id</th>
      <th>exec</th><th>status</th><th>symbol</th><th>side</th><th>qty</th><th>last</th>
      <th>cum</th><th>reason</th></tr></thead>
    <tbody>${reports.map((r) => html`<tr data-exec=${r.exec_id} data-report-order=${r.client_order_id}
        data-report-status=${r.ord_status}>
      <td>${new Date(r.time).toLocaleTimeString()}</td><td>${r.session_id}</td><td>${r.sequence}</td>
      <td>${r.client_order_id}</td><td>${r.exec_type}</td><td>${r.ord_status}</td><td>${r.symbol}</td>
      <td>${r.side}</td><td>${r.order_qty}</td>
      <td>${r.last_qty !== "0" ? `${r.last_qty} @ ${r.last_px}` : ""}</td><td>${r.cum_qty}</td>
      <td class="bad">${r.reason}</td></tr>`)}
    </tbody></table></section>`;
}

function Chart({ data, series, height, testid }) {
  const ref = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = Math.max(200, ref.current.clientWidth || 400);
    plot.current = new uPlot({ width, height, series, legend: { show: false },
      axes: [{}, { size: 50 }], scales: { x: { time: true } } }, data, ref.current);
    return () => plot.current.destroy();
  }, []);
  useEffect(() => { if (plot.current) plot.current.setData(data); }, [data]);
  return html`<div ref=${ref} data-testid=${testid}></div>`;
}

function Budgets({ budgets }) {
  return html`<section><h2>Rate budgets per key and pair</h2>
    ${budgets.length === 0 && html`<p class="muted">no modelled budget (paper venue)</p>`}
    ${budgets.map((b) => {
      const used = Number(b.used), limit = Number(b.limit);
      const pct = limit > 0 ? Math.min(100, (100 * used) / limit) : 0;
      const data = [b.history.map((p) => p[0]), b.history.map((p) => p[1]), b.history.map((p) => p[2])];
      const id = `${b.account}/${b.key_id}/${b.budget}/${b.pair}`;
      return html`<div class="budget" data-budget=${id}>
        <div><div>${b.account} <code>${b.key_id}</code> ${b.budget} ${b.pair}
          <span class="muted"> ${b.used} / ${b.limit}</span></div>
          <div class=${pct > 80 ? "gauge hot" : "gauge"}><div style=${`width:${pct}%`}></div></div></div>
        <${Chart} key=${id} data=${data} height=${70}
          series=${[{}, { label: "used", stroke: "#4b3fd6" }, { label: "limit", stroke: "#b42318", dash: [4, 4] }]} />
      </div>`;
    })}</section>`;
}

function Latency({ latency }) {
  const data = [latency.map((p) => p[0]), latency.map((p) => p[1])];
  const last = latency.length ? latency[latency.length - 1] : null;
  return html`<section><h2>Venue round trip (ms)</h2>
    <${Chart} data=${data} height=${160} testid="latency-chart"
      series=${[{}, { label: "ms", stroke: "#12805c", paths: () => null,
        points: { show: true, size: 4, fill: "#12805c" } }]} />
    <p class="muted note">${latency.length} recent requests${last ? html`; last: ${last[2]}${" "}
      <span data-testid="latency-last">${last[1].toFixed(2)}</span> ms` : ""}</p></section>`;
}

function App() {
  const [state, live] = useConsoleState();
  const [admin, setAdmin] = useState(null);
  const [error, setError] = useState("");
  const onError = (e) => setError(String(e.message || e));
  if (!state) return html`<p class="muted">connecting&hellip;</p>`;
  return html`<header><h1>krakengw console</h1>
      <span class=${live ? "pill ok" : "pill bad"} data-testid="live">${live ? "live" : "offline"}</span>
      ${error && html`<span class="bad note" data-testid="action-error">${error}</span>`}
      <span class="spacer"></span>
      <${AdminBar} admin=${admin} setAdmin=${setAdmin} enabled=${state.admin_enabled} /></header>
    <main>
      <${Sessions} sessions=${state.sessions} admin=${admin} onError=${onError} />
      <${Accounts} accounts=${state.accounts} admin=${admin} onError=${onError} />
      <${OpenOrders} accounts=${state.accounts} />
      <${Reports} reports=${state.reports} />
      <${Budgets} budgets=${state.budgets} />
      <${Latency} latency=${state.latency} />
    </main>`;
}

render(html`<${App} />`, document.getElementById("app"));
