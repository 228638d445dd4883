// Runs side by side: their smoothed training loss, validation loss and accuracy overlaid, one colour
// a run, and their settings in a table where the rows that differ are marked.
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { type CompareToHost, compareToWebview, type CompareToWebview } from '../../core/protocol/compare';
import { axisTicks } from '../shared/axes';
import { h } from '../shared/dom';
import { connectToHost } from '../shared/host';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend);

const root = document.getElementById('root') as HTMLElement;
const host = connectToHost<CompareToWebview, CompareToHost>(compareToWebview, (message) => render(message));
const paletteNames = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'];

const summary = h('dl', { 'data-field': 'runs' });
const settings = h('table', { class: 'settings', 'data-field': 'settings' });
const cards = ['Training loss per step (smoothed)', 'Validation loss per epoch', 'Validation accuracy (%)'].map((heading, i) => {
  const canvas = h('canvas', { 'data-chart': ['loss', 'validLoss', 'validAccuracy'][i] ?? '', role: 'img', 'aria-label': heading });
  return { card: h('section', { class: 'card' }, h('h2', {}, heading), h('div', { class: 'chart' }, canvas)), canvas };
});
root.replaceChildren(h('header', {}, h('div', { class: 'logo' }), h('h1', {}, 'Compare Runs')), summary, h('div', { class: 'grid' }, ...cards.map((c) => c.card)), h('h2', {}, 'Settings'), h('div', { class: 'scroll' }, settings));
root.classList.add('dashboard');
root.setAttribute('aria-busy', 'false');

const charts = cards.map(
  ({ canvas }, i) =>
    new Chart<'line', { x: number; y: number }[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: { animation: false, parsing: false, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', axis: 'x', intersect: false }, scales: { x: { type: 'linear', title: { display: true, text: i === 0 ? 'step' : 'epoch' }, ticks: axisTicks(i === 0 ? 'step' : 'epoch') }, y: { type: 'linear' } } },
    }),
);

function palette(): string[] {
  const style = getComputedStyle(document.body);
  Chart.defaults.color = style.getPropertyValue('--vscode-foreground').trim() || '#ccc';
  return paletteNames.map((name) => style.getPropertyValue(`--vscode-charts-${name}`).trim() || '#3794ff');
}

let last: CompareToWebview | undefined;
new MutationObserver(() => last && render(last)).observe(document.body, { attributes: true, attributeFilter: ['class'] });

function render(message: CompareToWebview): void {
  last = message;
  host.setState({ runDirs: message.runs.map((r) => r.runDir) });
  const colours = palette();
  const colour = (i: number) => colours[i % colours.length] ?? '#3794ff';
  const toPoints = (flat: number[]) => Array.from({ length: flat.length / 2 }, (_, i) => ({ x: flat[2 * i] ?? 0, y: flat[2 * i + 1] ?? 0 }));
  summary.replaceChildren(
    ...message.runs.flatMap((run, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = colour(i);
      return [h('dt', {}, swatch, ` ${run.label}`), h('dd', {}, `${run.status}${run.testAccuracy === null ? '' : ` · test accuracy ${(100 * run.testAccuracy).toFixed(2)} %`}`)];
    }),
  );
  const series = [(r: (typeof message.runs)[number]) => r.smoothedLoss, (r: (typeof message.runs)[number]) => r.validLoss, (r: (typeof message.runs)[number]) => r.validAccuracy];
  charts.forEach((chart, c) => {
    chart.data.datasets = message.runs.map((run, i) => ({ label: run.label, data: toPoints(series[c]?.(run) ?? []), borderColor: colour(i), backgroundColor: colour(i), borderWidth: 2, pointRadius: c === 0 ? 0 : 3 }));
    chart.update();
    chart.canvas.dataset['points'] = chart.data.datasets.map((d) => d.data.length).join(',');
  });
  settings.replaceChildren(
    h('tr', {}, h('th', {}, ''), ...message.runs.map((run, i) => {
      const th = h('th', { scope: 'col' }, run.label);
      th.style.borderBottom = `2px solid ${colour(i)}`;
      return th;
    })),
    ...message.settings.map((row) => h('tr', { class: row.differs ? 'differs' : '', 'data-key': row.key }, h('th', { scope: 'row' }, row.key), ...row.values.map((value) => h('td', {}, value)))),
  );
}
