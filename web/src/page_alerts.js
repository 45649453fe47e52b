// Alerts: what the server's rules found in the devices' telemetry (drift,
// estimated accuracy, latency, errors, silence), with acknowledge and
// resolve for operators, and the thresholds in force.

import { get, post, query } from './api.js';
import { ago, cls, deviceLink, facts, fill, h, section, status, table } from './dom.js';

const STATES = [['active', 'open or acknowledged'], ['open', 'open'], ['acknowledged', 'acknowledged'], ['resolved', 'resolved'], ['', 'all']];
const KINDS = ['', 'drift', 'accuracy', 'latency', 'errors', 'silent'];

function alertBadge(state) {
  return h('span', { class: `badge a-${cls(state)}` }, state);
}

export default {
  title: 'Alerts',
  mount(view, params, session) {
    const filter = { state: 'active', kind: '' };
    const stateSel = h('select', { id: 'alert-state', onchange: () => { filter.state = stateSel.value; page.refresh(); } },
      STATES.map(([v, label]) => h('option', { value: v, selected: v === filter.state }, label)));
    const kindSel = h('select', { id: 'alert-kind', onchange: () => { filter.kind = kindSel.value; page.refresh(); } },
      KINDS.map((k) => h('option', { value: k }, k || 'every kind')));
    const msg = status();
    const list = h('div');
    const rules = h('div');
    const count = h('span', { class: 'muted' });
    view.append(h('h1', null, 'Alerts'),
      section(null, h('div', { class: 'toolbar' }, stateSel, kindSel, count, msg), list),
      section('Rules in force', rules));

    async function act(a, what) {
      try {
        await post(`/alerts/${a.id}/${what}`);
        msg.ok(`alert #${a.id} ${what === 'ack' ? 'acknowledged' : 'resolved'}`);
        page.refresh();
      } catch (e) {
        msg.fail(e);
      }
    }

    const columns = [
      { title: 'id', cell: (a) => `#${a.id}` },
      { title: 'kind', cell: (a) => h('b', null, a.kind) },
      { title: 'state', cell: (a) => alertBadge(a.state) },
      { title: 'device', cell: (a) => deviceLink(a.device_id) },
      { title: 'model', cell: (a) => (a.model ? `${a.model} ${a.version}` : '-') },
      { title: 'what', cell: (a) => a.message, class: 'reason' },
      { title: 'opened', cell: (a) => ago(a.opened_at) },
      { title: 'handled', cell: (a) => [a.acked_by ? `ack ${a.acked_by}` : '', a.acked_by && a.resolved_by ? ', ' : '', a.resolved_by ? `resolved ${a.resolved_by}` : ''] },
    ];
    if (session.can('operator')) {
      columns.push({ title: '', cell: (a) => h('span', { class: 'actions' },
        a.state === 'open' ? h('button', { type: 'button', class: 'small secondary', 'data-action': 'ack', onclick: () => act(a, 'ack') }, 'Acknowledge') : null,
        a.state !== 'resolved' ? h('button', { type: 'button', class: 'small secondary', 'data-action': 'resolve', onclick: () => act(a, 'resolve') }, 'Resolve') : null) });
    }

    const page = {
      interval: 5000,
      async refresh() {
        const [r, rl] = await Promise.all([
          get(`/alerts${query({ state: filter.state, kind: filter.kind, limit: 200 })}`),
          get('/alert-rules'),
        ]);
        count.textContent = `${r.total} alert${r.total === 1 ? '' : 's'}`;
        fill(list, table(columns, r.alerts || [], { empty: 'no alert', rowAttrs: (a) => ({ 'data-alert': a.id, 'data-state': a.state }) }));
        fill(rules, facts([
          ['opens after', `${rl.windows} consecutive bad windows (of at least ${rl.min_inferences} inferences)`],
          ['resolves after', `${rl.resolve_windows} clear windows (within ${Math.round(rl.hysteresis * 100)}% of a limit)`],
          ['drift', `score above ${rl.drift_psi} with a device drift event`],
          ['accuracy', `estimate below the profile's by more than ${rl.accuracy_drop}`],
          ['latency', `${rl.latency_factor ? `p95 above ${rl.latency_factor}× the device's baseline` : 'relative check off'}${rl.latency_p95_max_us ? `, or above ${rl.latency_p95_max_us} µs` : ''}`],
          ['errors', `error rate above the baseline's by more than ${rl.error_margin}`],
          ['silent', rl.silent_s ? `no check-in or report for ${rl.silent_s} s` : 'off'],
        ]));
      },
    };
    return page;
  },
};
