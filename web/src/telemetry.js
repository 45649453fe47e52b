// Telemetry charts (GET /api/v1/telemetry, docs/openapi.yaml): the devices'
// monitoring reports summed into time buckets, one line per series (per
// model version by default). Used by the fleet, device and deployment pages.

import { get, query } from './api.js';
import { h } from './dom.js';
import { timeChart } from './charts.js';

const RANGES = [['15m', '15 min'], ['1h', '1 hour'], ['6h', '6 hours'], ['24h', '24 hours'], ['7d', '7 days']];

function us(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} ms`;
  return `${Math.round(v)} µs`;
}
const pct = (v) => `${(v * 100).toFixed(0)}%`;

// What is charted, from one point of a series.
const METRICS = [
  { id: 'acc', title: 'Estimated accuracy', of: (p) => p.acc_est, fmt: pct, axisFmt: pct, yRange: [0, 1] },
  { id: 'drift', title: 'Drift score (PSI)', of: (p) => (p.drift ? p.drift.score : null), fmt: (v) => v.toFixed(3) },
  { id: 'latency', title: 'Latency p95', of: (p) => p.latency_p95_us, fmt: us, axisFmt: us },
  { id: 'inferences', title: 'Inferences per bucket', of: (p) => p.inferences, fmt: (v) => String(Math.round(v)) },
];

// A series' name from its key ({model, version}, {device_id}, {wave, ...}, {group}).
function seriesName(key) {
  if (!key) return 'all';
  if (key.wave !== undefined) return `wave ${key.wave + 1}${key.version ? ` (${key.version})` : ''}`;
  if (key.device_id) return key.device_id.slice(0, 12);
  if (key.group !== undefined) return key.group || '(no group)';
  if (key.model) return `${key.model} ${key.version}`;
  return 'all';
}

// Series on one shared time axis (uPlot wants aligned x values): null where a series has no bucket.
function align(series, metric) {
  const ts = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
  const index = new Map(ts.map((t, i) => [t, i]));
  const ys = series.map((s) => {
    const y = new Array(ts.length).fill(null);
    for (const p of s.points) {
      const v = metric.of(p);
      y[index.get(p.t)] = typeof v === 'number' && Number.isFinite(v) ? v : null;
    }
    return y;
  });
  return [ts, ys];
}

// A block of charts for a filter: {el, refresh()}. params: the /telemetry query (device, deployment, ...).
export function telemetryCharts(title, params, opts = {}) {
  let range = opts.range || '1h';
  const every = opts.every || 10000; // telemetry queries are the heaviest: not on every page refresh
  let fetchedAt = 0;
  const rangeSel = h('select', { class: 'range', onchange: () => { range = rangeSel.value; fetchedAt = 0; block.refresh(); } },
    RANGES.map(([v, label]) => h('option', { value: v, selected: v === range }, `last ${label}`)));
  const note = h('span', { class: 'muted' });
  const grid = h('div', { class: 'charts' });
  rangeSel.hidden = Boolean(opts.since); // a fixed start (a deployment's) replaces the choice
  const el = h('section', { class: 'card telemetry' },
    h('div', { class: 'card-head' }, h('h2', null, title), rangeSel, note), grid);
  let charts = null;
  let names = '';

  const block = {
    el,
    async refresh() {
      if (Date.now() - fetchedAt < every) return;
      fetchedAt = Date.now();
      const since = typeof opts.since === 'function' ? opts.since() : null;
      const r = await get(`/telemetry${query({ ...params, since: since || range })}`);
      const series = (r.series || []).filter((s) => s.points && s.points.length);
      const t = r.totals || {};
      note.textContent = t.reports
        ? `${t.reports} reports from ${t.devices} device${t.devices === 1 ? '' : 's'}, ${t.inferences} inferences, buckets of ${Math.round(r.step_ms / 1000)} s`
        : 'no report in this period';
      const key = series.map((s) => seriesName(s.key)).join('\u0000');
      if (!charts || key !== names) { // the set of lines changed: new charts
        names = key;
        charts = METRICS.map((m) => timeChart({ title: m.title, fmt: m.fmt, axisFmt: m.axisFmt, yRange: m.yRange,
          series: series.length ? series.map((s) => ({ label: seriesName(s.key) })) : [{ label: 'none' }] }));
        grid.replaceChildren(...charts.map((c) => c.el));
        grid.dataset.series = String(series.length);
      }
      METRICS.forEach((m, i) => {
        if (!series.length) charts[i].set([]);
        else {
          const [ts, ys] = align(series, m);
          charts[i].set(ts, ...ys);
        }
      });
    },
  };
  return block;
}

export function deviceCharts(id) {
  return telemetryCharts('Telemetry', { device: id, group_by: 'version' });
}

export function deploymentCharts(id, since) {
  return telemetryCharts('Telemetry of its devices, by version, from 15 min before it started', { deployment: id, group_by: 'version' }, { since });
}

export function fleetCharts() {
  return telemetryCharts('Fleet telemetry, by version', { group_by: 'version' }, { every: 30000 });
}
