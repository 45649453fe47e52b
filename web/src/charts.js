// Time-series charts on uPlot (the npm package, vendored into the build by
// web/CMakeLists.txt and loaded by index.html as the global `uPlot`).
// A chart is made once per page and fed new data on every refresh.

import { h } from './dom.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

export function chartsAvailable() {
  return typeof window.uPlot === 'function';
}

// timeChart({title, unit, series: [{label}], height, fmt, axisFmt, yRange}) -> {el, set(xsMs, ...ys)}
// Missing points are null (gaps). fmt formats legend values, axisFmt(v, tick spacing) the axis.
// Axis ticks with as many decimals as their spacing needs (0.085, 0.090, ... not 0.09, 0.09).
function byIncrement(v, incr) {
  return v.toFixed(Math.max(0, Math.min(6, -Math.floor(Math.log10(incr)))));
}

export function timeChart({ title, unit = '', series, height = 160, fmt = (v) => v.toFixed(2), axisFmt = byIncrement, yRange }) {
  const box = h('div', { class: 'chart' });
  const el = h('figure', { class: 'chart-card' }, h('figcaption', null, title, unit ? ` (${unit})` : ''), box);
  if (!chartsAvailable()) {
    box.append(h('p', { class: 'muted' },
      'Charts unavailable: this server was built without web/node_modules (see docs/dashboard.md).'));
    return { el, set() {} };
  }
  let plot = null;
  let last = null;
  const opts = (width) => ({
    width,
    height,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: yRange ? { range: yRange } : { auto: true } },
    axes: [
      { stroke: '#475569', grid: { stroke: '#e2e8f0' } },
      { stroke: '#475569', grid: { stroke: '#e2e8f0' }, size: 56,
        values: (u, vals, axis, space, incr) => vals.map((v) => (v === null ? '' : axisFmt(v, incr))) },
    ],
    series: [
      { label: 'time', value: (u, v) => (v === null ? '-' : new Date(v * 1000).toISOString().slice(11, 19)) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color || COLORS[i % COLORS.length],
        width: 1.5,
        spanGaps: false,
        points: { show: true, size: 4 },
        value: (u, v) => (v === null || v === undefined ? '-' : fmt(v)),
      })),
    ],
  });
  const width = () => Math.max(280, (box.clientWidth || 560) - 4);
  new ResizeObserver(() => {
    if (plot && Math.abs(plot.width - width()) > 8) plot.setSize({ width: width(), height });
  }).observe(box);
  return {
    el,
    // xs in Unix milliseconds; each ys array as long as xs.
    set(xs, ...ys) {
      const data = [xs.map((x) => x / 1000), ...ys];
      const key = JSON.stringify(data);
      if (key === last) return;
      last = key;
      if (!xs.length) {
        if (plot) { plot.destroy(); plot = null; }
        box.replaceChildren(h('p', { class: 'muted' }, 'no data yet'));
        return;
      }
      if (!plot) {
        box.replaceChildren();
        plot = new window.uPlot(opts(width()), data, box);
      } else {
        plot.setData(data);
      }
    },
  };
}
