// One device: what it is, what its slots hold, its deployment history, its
// telemetry over time, and (operators) its group and tags.

import { get, patch } from './api.js';
import { ago, badge, bytes, facts, fill, h, route, section, status, table, time } from './dom.js';
import { deviceCharts } from './telemetry.js';
import { runs, updateState } from './fleet_util.js';

export default {
  title: 'Device',
  mount(view, [id], session) {
    const head = h('div', { class: 'page-head' });
    const about = h('div');
    const slots = h('div');
    const history = h('div');
    const charts = deviceCharts(id);
    const editor = session.can('operator') ? tagEditor(id, () => page.refresh()) : null;

    view.append(
      h('p', { class: 'crumbs' }, h('a', { href: '#/fleet' }, 'Fleet'), ' / device'),
      head,
      h('div', { class: 'cols' }, section('About', about, editor ? editor.el : null), section('Slots', slots)),
      charts.el,
      section('Deployments', history),
    );

    const page = {
      interval: 5000,
      async refresh() {
        const [d, tel] = await Promise.all([
          get(`/devices/${id}`),
          get(`/telemetry/reports?device=${id}&limit=1`).catch(() => null),
          charts.refresh(),
        ]);
        const tt = (tel && tel.totals) || {};
        const p = d.profile || {};
        const st = d.status || {};
        fill(head, h('h1', { class: 'mono' }, d.id), ' ', badge(d.health), ' ', badge(updateState(d)));
        fill(about, facts([
          ['group', d.group || '-'],
          ['tags', (d.tags || []).length ? d.tags.map((t) => h('span', { class: 'tag', 'data-tag': t }, t,
            editor ? h('button', { type: 'button', class: 'x', title: `remove tag ${t}`, onclick: () => editor.remove(t) }, '×') : null)) : '-'],
          ['runs', runs(d)],
          ['class', `${p.arch || '?'}, ${bytes(p.ram_bytes)} RAM, ${bytes(p.flash_bytes)} flash, speed ×${p.speed_factor ?? 1}`],
          ['runtime', st.runtime_version || p.runtime_version || '-'],
          ['operators', `${(p.ops || []).length}`],
          ['security counter', String(d.nv_counter ?? '-')],
          ['enrolled', time(d.enrolled_at)],
          ['last check-in', `${ago(d.last_seen)} (${time(d.last_seen)})`],
          ['health', Object.entries(st.health || {}).map(([k, v]) => `${k} ${v}`).join(', ') || '-'],
          ['monitoring', tt.reports ? `${tt.reports} reports, ${tt.inferences} inferences, last ${ago(tt.last_at)}${tt.dropped ? `, ${tt.dropped} lost on the device` : ''}` : 'no report yet'],
        ]));
        fill(slots, table([
          { title: 'slot', cell: (s) => [s.slot, s.slot === st.active_slot ? ' (active)' : ''] },
          { title: 'state', cell: (s) => badge(s.state) },
          { title: 'model', cell: (s) => (s.model ? `${s.model} ${s.version}` : s.state === 'receiving' ? `${bytes(s.received)} of ${bytes(s.size)}` : '-') },
          { title: 'counter', cell: (s) => s.counter ?? '-' },
          { title: 'digest', cell: (s) => h('span', { class: 'mono' }, (s.bundle_digest || '').replace('sha256:', '').slice(0, 12) || '-') },
        ], st.slots || [], { empty: 'no check-in yet' }));
        fill(history, table([
          { title: 'deployment', cell: (a) => h('a', { href: route('deployments', a.deployment_id) }, `#${a.deployment_id}`) },
          { title: 'deployment state', cell: (a) => badge(a.deployment_state) },
          { title: 'device state', cell: (a) => badge(a.state) },
          { title: 'wave', cell: (a) => (a.wave < 0 ? '-' : String(a.wave + 1)) },
          { title: 'bundle', cell: (a) => (a.bundle_id ? `#${a.bundle_id}` : '-') },
          { title: 'reason', cell: (a) => a.reason || '' , class: 'reason' },
          { title: 'updated', cell: (a) => ago(a.updated_at) },
        ], d.deployments || [], { empty: 'never part of a deployment' }));
      },
    };
    return page;
  },
};

// Group and tag editing (PATCH /devices/{id}); shown to operators and admins only.
function tagEditor(id, done) {
  const msg = status();
  const tagIn = h('input', { id: 'tag-input', placeholder: 'new tag', size: 12, pattern: '[A-Za-z0-9._:\\/\\-]{1,64}' });
  const groupIn = h('input', { id: 'group-input', placeholder: 'group', size: 12 });
  async function change(body, what) {
    try {
      await patch(`/devices/${id}`, body);
      msg.ok(what);
      done();
    } catch (e) {
      msg.fail(e);
    }
  }
  const el = h('form', { class: 'inline-form', id: 'tag-form', onsubmit: (ev) => {
    ev.preventDefault();
    const tag = tagIn.value.trim();
    const group = groupIn.value.trim();
    const body = {};
    if (tag) body.add_tags = [tag];
    if (groupIn.value !== '') body.group = group;
    if (!tag && groupIn.value === '') return;
    tagIn.value = groupIn.value = '';
    change(body, tag ? `tagged ${tag}` : `moved to group ${group || '(none)'}`);
  } }, tagIn, groupIn, h('button', { type: 'submit' }, 'Apply'), msg);
  return { el, remove: (t) => change({ remove_tags: [t] }, `removed ${t}`) };
}
