// sluice status page: polls /api/status every second and draws it.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  let polls = 0;

  function fmt(v, digits) {
    if (v === null || v === undefined) return "—";
    if (Math.abs(v) >= 10000) return Math.round(v).toLocaleString("en-US");
    return v.toFixed(digits);
  }
  const ms = (s) => (s === null || s === undefined ? null : s * 1000);
  function text(id, s) { const e = $(id); if (e && e.textContent !== s) e.textContent = s; }
  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // chart draws lines ({values, cls}) against times on svg (its viewBox
  // sets the drawing size); each path carries data-points, its point count.
  function chart(svg, times, lines, labels) {
    const [, , w, h] = svg.getAttribute("viewBox").split(" ").map(Number);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    let ymax = 0;
    for (const l of lines) for (const v of l.values) if (v !== null && v > ymax) ymax = v;
    ymax = ymax > 0 ? ymax * 1.1 : 1;
    const t0 = times.length ? times[0] : 0, t1 = times.length ? times[times.length - 1] : 1;
    const x = (t) => (t1 > t0 ? ((t - t0) / (t1 - t0)) * w : w);
    const y = (v) => h - 2 - (v / ymax) * (h - 12);
    for (const f of [0.5, 1]) {
      el("line", { class: "grid", x1: 0, x2: w, y1: y(ymax * f / 1.1), y2: y(ymax * f / 1.1) }, svg);
      if (labels) el("text", { x: 2, y: y(ymax * f / 1.1) - 2 }, svg).textContent = fmt(ymax * f / 1.1, ymax < 10 ? 2 : 0);
    }
    for (const l of lines) {
      let d = "", n = 0;
      l.values.forEach((v, i) => {
        if (v === null) return;
        d += (n ? "L" : "M") + x(times[i]).toFixed(1) + " " + y(v).toFixed(1);
        n++;
      });
      if (n === 1) d += "L" + (x(times[times.length - 1]) + 0.1).toFixed(1) + " " + d.split(" ")[1];
      const p = el("path", { class: l.cls, d: d || "M0 0" }, svg);
      p.dataset.points = String(n);
    }
  }

  function models(st) {
    const slots = { production: [], canary: [], shadow: [] };
    for (const m of st.models) (slots[m.stage || "production"] || (slots[m.stage] = [])).push(m.model + " v" + m.version);
    for (const s of ["production", "canary", "shadow"]) text("model-" + s, slots[s].length ? slots[s].join(", ") : "—");
    // What the registry assigns that this worker does not serve.
    const held = (st.held || []).map(h => h.model + " v" + h.version + " (" + h.stage + ") " + h.state +
      (h.state === "refused" ? ": " + h.reason + "; sluice models show " + h.model : " for the input schema"));
    $("held-slot").hidden = !held.length;
    text("model-held", held.length ? held.join(", ") : "—");
    text("provider", st.provider || "—");
  }

  function table(id, rows, empty) {
    const t = $(id);
    t.replaceChildren();
    if (!rows.length) { const r = t.insertRow(); r.insertCell().textContent = empty; r.cells[0].className = "muted"; return; }
    for (const row of rows) {
      const r = t.insertRow();
      row.forEach((c, i) => { const td = r.insertCell(); td.textContent = c; if (i) td.className = "n"; });
    }
  }

  function events(st) {
    const ol = $("events");
    ol.replaceChildren();
    if (!st.events.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "none yet"; ol.appendChild(li); return; }
    for (const e of st.events) {
      const li = document.createElement("li");
      li.className = "event ev-" + e.kind;
      const t = document.createElement("time");
      t.textContent = new Date(e.time).toLocaleTimeString();
      li.append(t, e.text);
      ol.appendChild(li);
    }
  }

  // drift draws one small chart per model feature: its test statistic and PSI.
  function drift(st) {
    const box = $("drift");
    if (!st.drift.length) return;
    const byFeature = new Map();
    for (const s of st.drift) {
      const k = s.model + "/" + s.feature;
      if (!byFeature.has(k)) byFeature.set(k, { model: s.model, feature: s.feature, series: [] });
      byFeature.get(k).series.push(s);
    }
    const seen = new Set();
    for (const [k, f] of byFeature) {
      seen.add(k);
      let fig = box.querySelector('figure[data-key="' + CSS.escape(k) + '"]');
      if (!fig) {
        box.querySelector("p.muted")?.remove();
        fig = document.createElement("figure");
        fig.dataset.key = k;
        fig.className = "drift-chart";
        fig.appendChild(document.createElement("figcaption"));
        fig.appendChild(el("svg", { viewBox: "0 0 220 70", preserveAspectRatio: "none" }));
        box.appendChild(fig);
      }
      const times = [...new Set(f.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
      const lines = f.series.map((s) => {
        const at = new Map(s.points.map((p) => [p[0], p[1]]));
        return { cls: s.test === "psi" ? "psi" : "stat", values: times.map((t) => (at.has(t) ? at.get(t) : null)) };
      });
      fig.firstChild.textContent = f.feature + "  " + f.series.map((s) => s.test + " " + fmt(s.latest, 3)).join(" · ");
      chart(fig.lastChild, times, lines, false);
    }
    for (const fig of box.querySelectorAll("figure")) if (!seen.has(fig.dataset.key)) fig.remove();
  }

  // quality lists each version's latest live quality window.
  function quality(st) {
    const t = $("quality");
    if (!st.quality.length) return;
    t.replaceChildren();
    const head = t.insertRow();
    for (const h of ["model", "version", "stage", "labelled", "AUC", "holdout AUC", "log-loss", "accuracy", "calibration error", "RMSE", ""]) {
      const th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    }
    for (const q of st.quality) {
      const r = t.insertRow();
      r.className = q.degraded ? "degraded" : "";
      r.dataset.key = q.model + "/" + q.version + "/" + q.stage;
      [q.model, "v" + q.version, q.stage, fmt(q.labelled, 0), fmt(q.auc, 3), fmt(q.holdout_auc, 3), fmt(q.log_loss, 3),
        fmt(q.accuracy, 3), fmt(q.calibration_error, 3), fmt(q.rmse, 3), q.degraded ? "degraded" : ""].forEach((c, i) => {
        const td = r.insertCell();
        td.textContent = c;
        if (i > 2) td.className = "n";
      });
    }
  }

  // What /readyz says: nothing while ready, else each condition that holds
  // the worker back (its route, name and detail).
  function readiness(st) {
    const r = st.readiness;
    const why = r && !r.ready ? (r.conditions || []).map((c) => (c.route ? c.route + ": " : "") + c.condition + (c.detail ? " (" + c.detail + ")" : "")) : [];
    $("not-ready").hidden = !(r && !r.ready);
    text("not-ready-why", why.join("; "));
  }

  function render(st) {
    text("throughput-in", fmt(st.throughput.in, 1));
    text("throughput-out", fmt(st.throughput.out, 1));
    text("latency-p50", fmt(ms(st.latency.p50), 1));
    text("latency-p99", fmt(ms(st.latency.p99), 1));
    text("inference-p99", fmt(ms(st.latency.inference_p99), 2));
    text("batch-mean", fmt(st.batch_size_mean, 1));
    text("lag", fmt(st.lag, 0));
    text("in-flight", fmt(st.in_flight, 0));
    for (const e of document.querySelectorAll(".window")) e.textContent = st.window_seconds + "s";
    models(st);
    readiness(st);
    chart($("chart-throughput"), st.series.t, [{ cls: "in", values: st.series.in }, { cls: "out", values: st.series.out }], true);
    chart($("chart-latency"), st.series.t, [{ cls: "p50", values: st.series.p50.map(ms) }, { cls: "p99", values: st.series.p99.map(ms) }], true);
    table("queues", Object.keys(st.queues).sort().map((k) => [k, fmt(st.queues[k], 0)]), "none");
    table("dead-letters", st.dead_letters.map((d) => [d.reason, fmt(d.total, 0), fmt(d.rate, 1) + "/s"]), "none");
    const routes = st.routes || [];
    $("routes-section").hidden = routes.length < 2;
    table("routes", routes.map((r) => [r.name, fmt(r.in, 1) + " in/s", fmt(r.out, 1) + " out/s", fmt(r.in_total, 0) + " in",
      fmt(r.out_total, 0) + " out", fmt(r.dead_letters, 0) + " dead", fmt(r.lag, 0) + " lag", fmt(r.in_flight, 0) + " in flight"]), "none");
    events(st);
    quality(st);
    drift(st);
    text("updated", st.time ? "as of " + new Date(st.time).toLocaleTimeString() : "");
  }

  async function poll() {
    try {
      const r = await fetch("/api/status", { cache: "no-store" });
      if (!r.ok) throw new Error(r.status);
      render(await r.json());
      polls++;
      document.body.dataset.polls = String(polls);
      $("conn").className = "up";
      text("conn", "live");
    } catch (e) {
      $("conn").className = "down";
      text("conn", "disconnected");
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
