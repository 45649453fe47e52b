// Fleet overview: how many devices, in which health and update state,
// running which model version, and the device list with filters.

import { getAll } from './api.js';
import { ago, badge, countBy, deviceLink, distribution, fill, h, section, table } from './dom.js';
import { arch, runs, updateState } from './fleet_util.js';
import { fleetCharts } from './telemetry.js';

const SHOWN = 200; // rows drawn; the counts above cover every device

export default {
  title: 'Fleet',
  mount(view) {
    const filter = { group: '', tag: '', text: '' };
    const summary = h('div', { class: 'tiles' });
    const dists = h('div', { class: 'cols' });
    const list = h('div');
    const groupSel = h('select', { id: 'filter-group', onchange: () => { filter.group = groupSel.value; page.refresh(); } },
      h('option', { value: '' }, 'all groups'));
    const tagIn = h('input', { id: 'filter-tag', placeholder: 'tags: a,b', size: 14,
      onchange: () => { filter.tag = tagIn.value.trim(); page.refresh(); } });
    const textIn = h('input', { id: 'filter-text', placeholder: 'device id, model…', size: 16,
      oninput: () => { filter.text = textIn.value.trim().toLowerCase(); draw(); } });
    let devices = [];
    let groups = [];

    const charts = fleetCharts();
    view.append(
      h('h1', null, 'Fleet'),
      summary,
      dists,
      charts.el,
      section('Devices', h('div', { class: 'toolbar' }, groupSel, tagIn, textIn), list),
    );

    function draw() {
      const shown = devices.filter((d) => !filter.text ||
        d.id.includes(filter.text) || runs(d).toLowerCase().includes(filter.text) ||
        (d.group || '').toLowerCase().includes(filter.text) ||
        (d.tags || []).some((t) => t.toLowerCase().includes(filter.text)));
      fill(list,
        table([
          { title: 'device', cell: (d) => deviceLink(d.id) },
          { title: 'group', cell: (d) => d.group || '-' },
          { title: 'tags', cell: (d) => (d.tags || []).map((t) => h('span', { class: 'tag' }, t)) },
          { title: 'class', cell: (d) => arch(d) },
          { title: 'runs', cell: (d) => runs(d) },
          { title: 'update', cell: (d) => badge(updateState(d)) },
          { title: 'health', cell: (d) => badge(d.health) },
          { title: 'last seen', cell: (d) => ago(d.last_seen) },
        ], shown.slice(0, SHOWN), { empty: devices.length ? 'no device matches' : 'no device has enrolled yet',
          rowAttrs: (d) => ({ 'data-device': d.id }) }),
        shown.length > SHOWN ? h('p', { class: 'muted' }, `showing ${SHOWN} of ${shown.length}; narrow the filter`) : null);
    }

    const page = {
      interval: 10000,
      async refresh() {
        const [all, filtered] = await Promise.all([
          getAll('/devices', 'devices'),
          filter.group || filter.tag ? getAll('/devices', 'devices', { group: filter.group, tag: filter.tag }) : null,
          charts.refresh(),
        ]);
        devices = filtered || all;
        const total = all.length;
        const health = countBy(all, (d) => d.health);
        const states = countBy(all, updateState);
        const n = (pairs, k) => (pairs.find(([x]) => x === k) || [k, 0])[1];
        fill(summary,
          tile('devices', total),
          tile('healthy', n(health, 'ok'), 'ok'),
          tile('with errors', n(health, 'errors'), 'errors'),
          tile('stale', n(health, 'stale'), 'stale'),
          tile('updating', n(states, 'downloading') + n(states, 'trial'), 'downloading'));
        fill(dists,
          section('By update state', distribution(states, total, (k) => badge(k))),
          section('By version', distribution(countBy(all, runs), total)),
          section('By health', distribution(health, total, (k) => badge(k))),
          section('By class', distribution(countBy(all, arch), total)));
        const seen = [...new Set(all.map((d) => d.group).filter(Boolean))].sort();
        if (seen.join() !== groups.join()) {
          groups = seen;
          fill(groupSel, h('option', { value: '' }, 'all groups'),
            groups.map((g) => h('option', { value: g, selected: g === filter.group }, g)));
        }
        draw();
      },
    };
    return page;
  },
};

function tile(label, value, state) {
  return h('div', { class: `tile${state ? ` t-${state}` : ''}`, 'data-tile': label },
    h('div', { class: 'value' }, String(value)), h('div', { class: 'label' }, label));
}
