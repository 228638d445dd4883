// The training dashboard: a run's header and actions, its curves (chart.js), and its test report.
// Everything it shows comes in one validated `view` message, sent again whenever the run moves.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { BarController, BarElement, CategoryScale, Chart, type ChartDataset, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import { confusionCells, type FlatPoints } from '../../core/dashboard/series';
import { type DashboardToHost, dashboardToWebview, type DashboardToWebview, type DashboardView } from '../../core/protocol/dashboard';
import { axisTicks } from '../shared/axes';
import { h } from '../shared/dom';
import { connectToHost } from '../shared/host';
import { bytesOf } from '../shared/pixels';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, BarController, BarElement, Tooltip, Legend, zoomPlugin);

const root = document.getElementById('root') as HTMLElement;
const host = connectToHost<DashboardToWebview, DashboardToHost>(dashboardToWebview, (message) => render(message));
let logScale = false;

/** Theme colours, read again when the theme changes. */
function colours() {
  const style = getComputedStyle(document.body);
  const variable = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    text: variable('--vscode-foreground', '#ccc'),
    grid: variable('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)'),
    blue: variable('--vscode-charts-blue', '#3794ff'),
    orange: variable('--vscode-charts-orange', '#d18616'),
    green: variable('--vscode-charts-green', '#89d185'),
    red: variable('--vscode-charts-red', '#f14c4c'),
    purple: variable('--vscode-charts-purple', '#b180d7'),
    yellow: variable('--vscode-charts-yellow', '#cca700'),
  };
}

const toPoints = (flat: FlatPoints) => Array.from({ length: flat.length / 2 }, (_, i) => ({ x: flat[2 * i] ?? 0, y: flat[2 * i + 1] ?? 0 }));

// ---------------------------------------------------------------- layout, built once

const title = h('h1', {});
const status = h('vscode-badge', { 'data-field': 'status' });
const progressLine = h('p', { class: 'lead', 'data-field': 'progress' });
const facts = h('dl', { 'data-field': 'facts' });
const problem = h('p', { class: 'problem', 'data-field': 'error', role: 'alert' });
const stopButton = h('vscode-button', {}, 'Stop');
const resumeButton = h('vscode-button', {}, 'Resume');
const revealButton = h('vscode-button', {}, 'Reveal Run Folder');
stopButton.addEventListener('click', () => host.post({ type: 'stop' }));
resumeButton.addEventListener('click', () => host.post({ type: 'resume' }));
revealButton.addEventListener('click', () => host.post({ type: 'revealFolder' }));
revealButton.secondary = true;
const inspectButton = h('vscode-button', { 'data-field': 'inspect' }, 'Inspect Filters');
inspectButton.addEventListener('click', () => host.post({ type: 'inspectFilters' }));
inspectButton.secondary = true;

const smoothingInput = h('input', { type: 'range', min: '0', max: '0.99', step: '0.01', 'aria-label': 'Smoothing', 'data-field': 'smoothing' });
const smoothingValue = h('span', { class: 'value' });
smoothingInput.addEventListener('input', () => {
  smoothingValue.textContent = Number(smoothingInput.value).toFixed(2);
  host.post({ type: 'setSmoothing', weight: Number(smoothingInput.value) });
});
const logScaleBox = h('vscode-checkbox', { label: 'Log scale' });
logScaleBox.addEventListener('change', () => {
  logScale = logScaleBox.checked;
  for (const chart of [stepChart, epochChart]) {
    const y = chart.options.scales?.['y'];
    if (y) Object.assign(y, { type: logScale ? 'logarithmic' : 'linear' });
    chart.update('none');
  }
});

function canvasCard(heading: string, id: string, ...controls: HTMLElement[]): { card: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = h('canvas', { 'data-chart': id, role: 'img', 'aria-label': heading });
  const zoomHint = h('p', { class: 'hint zoom', 'data-zoom': id, hidden: '' });
  return { card: h('section', { class: 'card' }, h('h2', {}, heading, ...controls), h('div', { class: 'chart' }, canvas), zoomHint), canvas };
}

/** Says which steps a zoomed or panned chart shows, and how to see them all again. */
function showZoom(chart: Chart): void {
  const hint = chart.canvas.closest('.card')?.querySelector<HTMLElement>('[data-zoom]');
  if (!hint) return;
  const { min, max } = chart.scales['x'] ?? { min: 0, max: 0 };
  hint.hidden = !chart.isZoomedOrPanned();
  hint.textContent = `Showing ${Math.round(min).toLocaleString('en-US')}–${Math.round(max).toLocaleString('en-US')}: double-click to see everything`;
}

const stepCard = canvasCard('Training loss per step', 'loss', h('label', { class: 'control' }, 'Smoothing ', smoothingInput, smoothingValue), logScaleBox);
const epochCard = canvasCard('Loss per epoch', 'epochs');
const accuracyCard = canvasCard('Validation accuracy', 'accuracy');
const lrCard = canvasCard('Learning rate', 'lr');
const rateCard = canvasCard('Images per second', 'rate');
const classCard = canvasCard('Test accuracy per class', 'classes');
const reportSummary = h('p', { class: 'lead', 'data-field': 'test' });
const confusion = h('table', { class: 'confusion', 'data-field': 'confusion' });
const cellImages = h('div', { class: 'samples', 'data-field': 'cell-samples' });
const samples = h('div', { class: 'samples', 'data-field': 'samples' });
const report = h('section', { class: 'report', 'data-field': 'report' }, h('h2', {}, 'Test report'), reportSummary, h('div', { class: 'grid' }, classCard.card, h('section', { class: 'card' }, h('h2', {}, 'Confusion matrix'), h('div', { class: 'scroll' }, confusion), cellImages)), h('h2', {}, 'Test images: prediction (truth)'), samples);

root.replaceChildren(
  h('header', {}, h('div', { class: 'logo' }), h('div', {}, h('div', { class: 'title' }, title, status), progressLine)),
  facts,
  problem,
  h('div', { class: 'actions' }, stopButton, resumeButton, inspectButton, revealButton),
  h('div', { class: 'grid' }, stepCard.card, epochCard.card, accuracyCard.card, lrCard.card, rateCard.card),
  report,
);
root.setAttribute('aria-busy', 'false');
root.classList.add('dashboard');

// ---------------------------------------------------------------- charts

function lineChart(canvas: HTMLCanvasElement, datasets: ChartDataset<'line'>[], xTitle: string, y: { title: string; max?: number }): Chart<'line'> {
  canvas.addEventListener('dblclick', () => {
    const chart = Chart.getChart(canvas);
    chart?.resetZoom();
    if (chart) showZoom(chart);
  });
  return new Chart(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      plugins: {
        legend: { display: datasets.length > 1 },
        // Ctrl + wheel or a pinch zooms the steps, dragging pans them; a double click shows everything again.
        zoom: {
          zoom: { wheel: { enabled: true, modifierKey: 'ctrl' }, pinch: { enabled: true }, mode: 'x', onZoomComplete: ({ chart }) => showZoom(chart) },
          pan: { enabled: true, mode: 'x', onPanComplete: ({ chart }) => showZoom(chart) },
        },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: xTitle }, ticks: axisTicks(xTitle) },
        y: { type: 'linear', title: { display: true, text: y.title }, ...(y.max === undefined ? {} : { max: y.max }) },
      },
    },
  });
}

const stepChart = lineChart(stepCard.canvas, [
  { label: 'loss', data: [], borderWidth: 1, pointRadius: 0 },
  { label: 'smoothed', data: [], borderWidth: 2, pointRadius: 0 },
], 'step', { title: 'loss' });
const epochChart = lineChart(epochCard.canvas, [
  { label: 'training', data: [], borderWidth: 2 },
  { label: 'validation', data: [], borderWidth: 2 },
  { label: 'best', data: [], pointRadius: 7, pointStyle: 'star', showLine: false, borderWidth: 2 },
], 'epoch', { title: 'loss' });
const accuracyChart = lineChart(accuracyCard.canvas, [{ label: 'validation accuracy', data: [], borderWidth: 2 }], 'epoch', { title: '%', max: 100 });
const lrChart = lineChart(lrCard.canvas, [{ label: 'learning rate', data: [], borderWidth: 2, pointRadius: 0 }], 'step', { title: 'lr' });
const rateChart = lineChart(rateCard.canvas, [{ label: 'images/s', data: [], borderWidth: 2, pointRadius: 0 }], 'step', { title: 'images/s' });
const classChart = new Chart<'bar', number[], string>(classCard.canvas, {
  type: 'bar',
  data: { labels: [], datasets: [{ label: 'accuracy %', data: [] }] },
  options: { animation: false, indexAxis: 'y', responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => perClassLabel(item.dataIndex) } } }, scales: { x: { min: 0, max: 100 } } },
});
let perClass: NonNullable<DashboardView['test']>['perClass'] = [];
const perClassLabel = (i: number) => {
  const c = perClass[i];
  return c ? `${((100 * c.correct) / Math.max(c.total, 1)).toFixed(1)} % (${c.correct}/${c.total})` : '';
};

function applyTheme(): void {
  const c = colours();
  Chart.defaults.color = c.text;
  Chart.defaults.borderColor = c.grid;
  const paint = (chart: Chart, palette: string[]) => {
    chart.data.datasets.forEach((dataset, i) => {
      const colour = palette[i % palette.length] ?? c.blue;
      // The raw loss faint under its smoothed line, in the legend too.
      dataset.borderColor = dataset.backgroundColor = i === 0 && chart === stepChart ? `${colour}66` : colour;
    });
    for (const scale of Object.values(chart.options.scales ?? {})) {
      if (scale) Object.assign(scale, { grid: { color: c.grid }, ticks: { ...scale.ticks, color: c.text } });
    }
    // A full update: the quick one ('none') keeps the element options it resolved before.
    chart.update();
  };
  paint(stepChart, [c.blue, c.blue]);
  paint(epochChart, [c.blue, c.orange, c.yellow]);
  paint(accuracyChart, [c.green]);
  paint(lrChart, [c.purple]);
  paint(rateChart, [c.yellow]);
  paint(classChart, [c.blue]);
}
new MutationObserver(applyTheme).observe(document.body, { attributes: true, attributeFilter: ['class'] });
applyTheme();

// ---------------------------------------------------------------- the view

function render(message: DashboardToWebview): void {
  const view = message;
  host.setState({ runDir: view.runDir });
  document.title = view.title;
  title.textContent = view.title;
  status.textContent = view.status;
  status.dataset['status'] = view.status;
  const p = view.progress;
  progressLine.textContent = p ? `epoch ${p.epoch}/${p.epochs} · step ${p.step}/${p.steps} · ETA ${Math.floor(p.etaSeconds / 60)}:${String(Math.round(p.etaSeconds % 60)).padStart(2, '0')}` : view.runDir;
  facts.replaceChildren(...view.facts.flatMap(({ label, value }) => [h('dt', {}, label), h('dd', {}, value)]));
  problem.textContent = view.error ?? '';
  problem.hidden = !view.error;
  stopButton.hidden = !view.canStop;
  resumeButton.hidden = !view.canResume;
  // A best checkpoint exists from the first epoch on.
  inspectButton.hidden = view.status === 'starting';
  if (document.activeElement !== smoothingInput) {
    smoothingInput.value = String(view.smoothing);
    smoothingValue.textContent = view.smoothing.toFixed(2);
  }

  setData(stepChart, 0, toPoints(view.loss));
  setData(stepChart, 1, toPoints(view.smoothedLoss));
  setData(lrChart, 0, toPoints(view.lr));
  setData(rateChart, 0, toPoints(view.imagesPerSecond));
  setData(epochChart, 0, view.epochs.map((e) => ({ x: e.epoch, y: e.trainLoss })));
  setData(epochChart, 1, view.epochs.filter((e) => e.validLoss !== null).map((e) => ({ x: e.epoch, y: e.validLoss ?? 0 })));
  const best = view.epochs.find((e) => e.epoch === view.bestEpoch);
  setData(epochChart, 2, best ? [{ x: best.epoch, y: best.validLoss ?? best.trainLoss }] : []);
  setData(accuracyChart, 0, view.epochs.filter((e) => e.validAccuracy !== null).map((e) => ({ x: e.epoch, y: 100 * (e.validAccuracy ?? 0) })));
  for (const chart of [stepChart, epochChart, accuracyChart, lrChart, rateChart]) {
    chart.update('none');
    // What each curve holds, readable without the chart's internals.
    chart.canvas.dataset['points'] = chart.data.datasets.map((d) => d.data.length).join(',');
  }
  renderReport(view);
}

function setData(chart: Chart<'line'>, index: number, data: { x: number; y: number }[]): void {
  const dataset = chart.data.datasets[index];
  if (dataset) dataset.data = data;
}

let shownReport: string | undefined;

function renderReport(view: DashboardView): void {
  report.hidden = !view.test;
  const test = view.test;
  if (!test) return;
  // The report does not change once written: draw it once per run.
  const key = `${view.runDir}:${test.accuracy}:${view.samples?.pixels.length ?? 0}`;
  if (key === shownReport) return;
  shownReport = key;
  const total = test.perClass.reduce((sum, c) => sum + c.total, 0);
  reportSummary.textContent = `Test accuracy ${(100 * test.accuracy).toFixed(2)} % (${Math.round(test.accuracy * total)}/${total}), loss ${test.loss.toFixed(4)}`;
  perClass = test.perClass;
  classChart.data.labels = test.perClass.map((c) => c.name);
  const [bars] = classChart.data.datasets;
  if (bars) bars.data = test.perClass.map((c) => (100 * c.correct) / Math.max(c.total, 1));
  classCard.canvas.parentElement?.style.setProperty('height', `${Math.max(160, 22 * test.perClass.length)}px`);
  classChart.update('none');

  const classes = view.classes.length ? view.classes : test.perClass.map((c) => c.name);
  const cells = confusionCells(test.confusion);
  confusion.replaceChildren(
    h('caption', {}, 'Rows: the true class. Columns: what the model said.'),
    h('tr', {}, h('th', {}, ''), ...classes.map((name) => h('th', { scope: 'col', title: name }, name))),
    ...cells.map((row, truth) =>
      h('tr', {}, h('th', { scope: 'row' }, classes[truth] ?? String(truth)), ...row.map((cell, predicted) => {
        const td = h('td', { tabindex: '0', title: `true ${classes[truth]}, predicted ${classes[predicted]}: ${cell.count} (${(100 * cell.share).toFixed(1)} % of the class)`, 'data-count': String(cell.count), class: truth === predicted ? 'diagonal' : 'off' }, cell.count ? String(cell.count) : '');
        td.style.setProperty('--share', String(cell.share));
        const open = () => showCell(view, truth, predicted);
        td.addEventListener('click', open);
        td.addEventListener('keydown', (event) => (event.key === 'Enter' || event.key === ' ') && open());
        return td;
      })),
    ),
  );
  samples.replaceChildren(...sampleTiles(view, () => true));
  cellImages.replaceChildren();
}

/** The sample images whose true and predicted classes are those of a confusion-matrix cell. */
function showCell(view: DashboardView, truth: number, predicted: number): void {
  const tiles = sampleTiles(view, (label, guess) => label === truth && guess === predicted);
  const classes = view.classes;
  cellImages.replaceChildren(h('p', { class: 'hint' }, tiles.length ? `Test images that are ${classes[truth]} and were taken for ${classes[predicted]}:` : `None of the ${view.samples?.labels.length ?? 0} test images shown here is ${classes[truth]} taken for ${classes[predicted]}.`), ...tiles);
}

function sampleTiles(view: DashboardView, keep: (label: number, predicted: number) => boolean): HTMLElement[] {
  const batch = view.samples;
  if (!batch) return [];
  const [count = 0, channels = 1, height = 0, width = 0] = batch.shape;
  const bytes = bytesOf(batch.pixels);
  const tiles: HTMLElement[] = [];
  for (let n = 0; n < count; n++) {
    const label = batch.labels[n] ?? 0;
    const guess = batch.predicted[n] ?? 0;
    if (!keep(label, guess)) continue;
    const canvas = h('canvas', { width: String(width), height: String(height) });
    const context = canvas.getContext('2d');
    if (context) {
      const image = context.createImageData(width, height);
      const plane = width * height;
      for (let p = 0; p < plane; p++) {
        const at = (c: number) => bytes[n * channels * plane + c * plane + p] ?? 0;
        image.data.set(channels === 3 ? [at(0), at(1), at(2), 255] : [at(0), at(0), at(0), 255], p * 4);
      }
      context.putImageData(image, 0, 0);
    }
    const name = (i: number) => view.classes[i] ?? String(i);
    tiles.push(h('figure', { class: label === guess ? 'right' : 'wrong' }, canvas, h('figcaption', {}, `${name(guess)} (${name(label)})`)));
  }
  return tiles;
}
