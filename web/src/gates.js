// Deployment health gates (placeholder until the server's gate API lands).
import { h } from './dom.js';

export function gateFields() {
  return { el: h('span'), value: () => ({}) };
}

export function gateView() {
  return { el: h('div'), refresh: async () => {} };
}
