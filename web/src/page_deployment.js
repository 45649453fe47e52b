// One deployment, live: its waves filling up as devices report, the health
// gate's decisions, every device's state and reason, and (operators) pause,
// resume, abort and roll back.

import { get, post, query } from './api.js';
import { ago, badge, deviceLink, facts, fill, h, route, section, stackBar, status, table, time } from './dom.js';
import { ACTIVE_STATES, DEVICE_STATES, progressText, stateParts, targetText, totalOf } from './deploy_util.js';
import { gateView } from './gates.js';
import { deploymentCharts } from './telemetry.js';

const ROWS = 300; // device rows drawn; the waves above count every device

// Which actions a deployment's state allows (server/h_deploy_actions.c, deploy_rollback.c).
const ACTIONS = [
  ['pause', 'Pause', (d) => d.state === 'active'],
  ['resume', 'Resume', (d) => d.state === 'paused' || d.state === 'halted'],
  ['override', 'Resume past the gate', (d) => d.state === 'halted' && Boolean(d.health_gate),
    'Let the current wave pass its health gate once and resume?'],
  ['abort', 'Abort', (d) => ACTIVE_STATES.has(d.state), 'Abort this deployment? Devices that have not started are cancelled.'],
  ['rollback', 'Roll back', (d) => d.kind !== 'rollback' && d.state !== 'rolled-back',
    'Roll back? Every device that started this deployment goes back to what it ran before.'],
];

export default {
  title: 'Deployment',
  mount(view, [id], session) {
    const head = h('div', { class: 'page-head' });
    const actions = h('div', { class: 'actions', id: 'dep-actions' });
    const msg = status();
    const about = h('div');
    const waves = h('div', { id: 'waves' });
    const gate = gateView();
    let createdAt = 0;
    // From a quarter of an hour before the deployment: the old version's telemetry is the baseline.
    const charts = deploymentCharts(id, () => (createdAt ? createdAt - 15 * 60000 : null));
    const devices = h('div');
    const stateSel = h('select', { id: 'dev-state', onchange: () => page.refresh() },
      h('option', { value: '' }, 'every state'), DEVICE_STATES.map((s) => h('option', { value: s }, s)));

    view.append(
      h('p', { class: 'crumbs' }, h('a', { href: '#/deployments' }, 'Deployments'), ` / #${id}`),
      head,
      session.can('operator') ? h('div', { class: 'toolbar' }, actions, msg) : null,
      h('div', { class: 'cols' }, section('Waves', waves), section('About', about)),
      gate.el,
      charts.el,
      section('Devices', h('div', { class: 'toolbar' }, stateSel), devices),
    );

    async function act(name, confirmText) {
      if (confirmText && !window.confirm(confirmText)) return;
      try {
        const d = name === 'override'
          ? await post(`/deployments/${id}/resume`, { override_gate: true })
          : await post(`/deployments/${id}/${name}`);
        if (name === 'rollback') {
          location.hash = route('deployments', d.id);
          return;
        }
        msg.ok(`${name}: now ${d.state}`);
        page.refresh();
      } catch (e) {
        msg.fail(e);
      }
    }

    const page = {
      interval: 2000,
      async refresh() {
        const [d, list] = await Promise.all([
          get(`/deployments/${id}`),
          get(`/deployments/${id}/devices${query({ state: stateSel.value, limit: 1000 })}`),
        ]);
        createdAt = d.created_at;
        gate.draw(d);
        page.interval = ACTIVE_STATES.has(d.state) ? 2000 : 10000;
        fill(head,
          h('h1', null, `#${d.id} ${d.kind === 'rollback' ? 'rollback' : 'rollout'}: ${d.model} ${d.version}`),
          ' ', h('span', { id: 'dep-state' }, badge(d.state)),
          d.reason ? h('p', { class: 'reason', id: 'dep-reason' }, d.reason) : null);
        fill(actions, ACTIONS.filter(([, , ok]) => ok(d)).map(([name, label, , confirmText]) =>
          h('button', { type: 'button', class: name === 'abort' || name === 'rollback' ? 'danger' : '',
            'data-action': name, onclick: () => act(name, confirmText) }, label)));
        fill(about, facts([
          ['target', targetText(d.target)],
          ['rollback of', d.rollback_of ? h('a', { href: route('deployments', d.rollback_of) }, `#${d.rollback_of}`) : undefined],
          ['waves', (d.wave_percentages || []).map((p) => `${p}%`).join(' → ')],
          ['soak', `${d.soak_s} s between waves`],
          ['failures tolerated', String(d.max_failures)],
          ['progress', progressText(d.devices)],
          ['created', `${time(d.created_at)} by ${d.created_by || '?'}`],
          ['updated', ago(d.updated_at)],
        ]));
        fill(waves, (d.waves || []).map((w) => h('div', { class: `wave phase-${w.phase}`, 'data-wave': w.wave },
          h('div', { class: 'wave-head' }, h('b', null, `Wave ${w.wave + 1}`), ` · up to ${w.percent}% · ${w.devices} device${w.devices === 1 ? '' : 's'} · `, badge(wavePhase(d, w))),
          stackBar(stateParts(w.states), Math.max(w.devices, totalOf(w.states))),
          h('div', { class: 'legend' }, stateParts(w.states).filter(([, n]) => n).map(([s, n]) => h('span', null, badge(s), ` ${n}`))))),
          h('div', { class: 'legend' }, 'all devices: ', stateParts(d.devices).filter(([, n]) => n).map(([s, n]) => h('span', { 'data-count': s }, badge(s), ` ${n}`))));
        const all = list.devices || [];
        fill(devices, table([
          { title: 'device', cell: (a) => deviceLink(a.device_id) },
          { title: 'wave', cell: (a) => (a.wave < 0 ? '-' : String(a.wave + 1)) },
          { title: 'state', cell: (a) => badge(a.state) },
          { title: 'variant', cell: (a) => (a.bundle_id ? `#${a.bundle_id}` : '-') },
          { title: 'before', cell: (a) => (a.prev_bundle_id ? `#${a.prev_bundle_id}` : '-') },
          { title: 'reason', cell: (a) => a.reason || '', class: 'reason' },
          { title: 'updated', cell: (a) => ago(a.updated_at) },
        ], all.slice(0, ROWS), { empty: 'no device', rowAttrs: (a) => ({ 'data-device': a.device_id }) }),
        all.length > ROWS ? h('p', { class: 'muted' }, `showing ${ROWS} of ${all.length}; choose a state to narrow`) : null);
        await charts.refresh();
      },
    };
    return page;
  },
};

// An "open" wave whose devices are all done soaks, or waits for the gate's evidence, until the next opens.
function wavePhase(d, w) {
  const c = w.states || {};
  const busy = (c.pending || 0) + (c.downloading || 0) + (c['installed-trial'] || 0);
  if (w.phase !== 'open' || busy > 0 || d.state !== 'active' || w.wave === (d.waves || []).length - 1) return w.phase;
  const last = d.health_gate && d.health_gate.last;
  return last && last.verdict === 'wait' && last.wave === w.wave ? 'held by gate' : 'soaking';
}
