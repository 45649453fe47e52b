// Rollout health gates (docs/openapi.yaml HealthGate, docs/protocol.md
// P-26): the form fields that attach one to a new deployment, and the view
// of a deployment's gate with its decisions.

import { badge, fill, h, table, time } from './dom.js';

// [field, label, default, what it compares]
const LIMITS = [
  ['max_error_increase', 'Max error-rate increase', 0.02],
  ['max_latency_ratio', 'Max latency p95 ratio', 1.5],
  ['max_accuracy_drop', 'Max accuracy drop', 0.05],
  ['max_drift_increase', 'Max drift increase', 0.1],
];

function numberOrNull(input) {
  const v = input.value.trim();
  return v === '' ? null : Number(v);
}

// The "health gate" part of the new-deployment form: {el, value() -> {health_gate}|{}}.
export function gateFields() {
  const on = h('input', { type: 'checkbox', id: 'gate-on' });
  const action = h('select', { id: 'gate-action' }, h('option', { value: 'halt' }, 'halt'), h('option', { value: 'rollback' }, 'roll back'));
  const minInf = h('input', { id: 'gate-min-inferences', type: 'number', min: 1, value: '100', size: 7 });
  const limits = LIMITS.map(([name, , def]) => [name, h('input', { id: `gate-${name}`, type: 'number', step: 'any', value: String(def), size: 6, placeholder: 'off' })]);
  const body = h('div', { class: 'gate-fields' },
    h('label', null, 'On failure ', action),
    h('label', null, 'Min inferences per side ', minInf),
    limits.map(([name, input], i) => h('label', null, `${LIMITS[i][1]} `, input)));
  body.hidden = true;
  on.addEventListener('change', () => { body.hidden = !on.checked; });
  const el = h('fieldset', { class: 'gate' },
    h('legend', null, h('label', null, on, ' Health gate: compare each wave with the devices still on the old version')),
    body);
  return {
    el,
    value() {
      if (!on.checked) return {};
      const g = { action: action.value, min_inferences: Number(minInf.value || 100) };
      for (const [name, input] of limits) g[name] = numberOrNull(input); // empty = that check off
      return { health_gate: g };
    },
  };
}

const fmt = {
  error_rate: (v) => `${(v * 100).toFixed(2)}%`,
  latency_p95_us: (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)} ms` : `${Math.round(v)} µs`),
  acc_est: (v) => `${(v * 100).toFixed(1)}%`,
  drift: (v) => v.toFixed(3),
};
const LABELS = { error_rate: 'error rate', latency_p95_us: 'latency p95', acc_est: 'estimated accuracy', drift: 'drift score',
  inferences: 'inferences', reports: 'reports', devices: 'devices' };
const show = (k, v) => (typeof v === 'number' ? (fmt[k] ? fmt[k](v) : String(v)) : '-');

// The gate of a deployment: {el, draw(deployment)}. Decisions seen while the page is open are kept.
export function gateView() {
  const el = h('section', { class: 'card', id: 'gate' });
  el.hidden = true;
  const seen = [];
  return {
    el,
    draw(d) {
      const g = d.health_gate;
      el.hidden = !g;
      if (!g) return;
      const p = g.policy || {};
      const last = g.last;
      if (last) {
        // A gate that waits is judged again on every tick: one entry per distinct decision.
        const id = `${last.wave ?? last.override_wave}/${last.verdict || 'override'}/${last.reason || ''}`;
        if (!seen.some((x) => x.id === id)) seen.unshift({ id, ...last });
      }
      const limits = LIMITS.map(([name, label]) => `${label.toLowerCase()} ${p[name] === null || p[name] === undefined ? 'off' : p[name]}`);
      fill(el,
        h('h2', null, 'Health gate'),
        h('p', { class: 'muted' }, `Before each next wave: on failure ${p.action || 'halt'}; at least ${p.min_inferences} inferences and ${p.min_devices ?? 1} device(s) per side; ${limits.join(', ')}.`),
        last ? decision(last) : h('p', { class: 'muted' }, 'No decision yet: the first wave has not finished soaking.'),
        seen.length > 1 ? h('details', null, h('summary', null, `${seen.length} decisions seen while this page was open`),
          h('ul', { class: 'decisions' }, seen.map((x) => h('li', null, badge(x.verdict || 'override'), ` wave ${x.wave + 1} · ${time(x.at)} · ${x.reason || ''}`)))) : null);
    },
  };
}

function decision(last) {
  if (last.override_wave !== undefined && !last.verdict) {
    return h('p', { id: 'gate-verdict' }, badge('override'), ` wave ${last.override_wave + 1} let through by ${last.override_by}`);
  }
  const rows = Object.keys(LABELS)
    .map((k) => ({ k, n: last.new_version ? last.new_version[k] : null, b: last.baseline ? last.baseline[k] : null }));
  return h('div', null,
    h('p', { id: 'gate-verdict' }, badge(last.verdict), ` after wave ${last.wave + 1}, ${time(last.at)}`, last.reason ? ` — ${last.reason}` : ''),
    table([
      { title: 'metric', cell: (r) => LABELS[r.k] },
      { title: 'new version', cell: (r) => show(r.k, r.n) },
      { title: 'baseline (old version)', cell: (r) => show(r.k, r.b) },
    ], rows));
}
