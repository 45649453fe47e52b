// Telemetry charts (placeholder until the server's telemetry API lands).
import { h } from './dom.js';

export function deviceCharts() {
  return { el: h('div'), refresh: async () => {} };
}

export function deploymentCharts() {
  return { el: h('div'), refresh: async () => {} };
}
