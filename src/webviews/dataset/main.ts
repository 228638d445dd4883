// The dataset browser: a page of images with their classes, a class filter and the class counts, the
// per-channel statistics the trainer normalizes with, one image enlarged with every pixel's value
// (split into R, G and B for colour), and that image under the run's augmentation, drawn 16 times.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { augmentationDraws, browserPageSize, type DatasetSummary, type DatasetToHost, datasetToWebview, type DatasetToWebview } from '../../core/protocol/datasetBrowser';
import { random } from '../../core/random';
import { augmentPixels } from '../../core/training/augmentation';
import { h } from '../shared/dom';
import { connectToHost } from '../shared/host';
import { bytesOf, imagePixels } from '../shared/pixels';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

type Page = Extract<DatasetToWebview, { type: 'page' }>;
const root = document.getElementById('root') as HTMLElement;
const host = connectToHost<DatasetToWebview, DatasetToHost>(datasetToWebview, (message) => receive(message));
let summary: DatasetSummary | undefined;
let page: Page | undefined;
let selected: { index: number; pixels: Uint8Array; label: number; shape: readonly number[] } | undefined;


/** One image (C×H×W bytes at `offset`) drawn on a canvas, grey or RGB, or one channel of it tinted. */
function imageCanvas(bytes: Uint8Array, offset: number, shape: readonly number[], channel?: number): HTMLCanvasElement {
  const [channels = 1, height = 0, width = 0] = shape;
  const canvas = h('canvas', { width: String(width), height: String(height) });
  const context = canvas.getContext('2d');
  if (!context) return canvas;
  const image = context.createImageData(width, height);
  const plane = width * height;
  for (let p = 0; p < plane; p++) {
    const at = (c: number) => bytes[offset + c * plane + p] ?? 0;
    const rgb = channel !== undefined ? [0, 1, 2].map((c) => (c === channel ? at(channel) : 0)) : channels === 3 ? [at(0), at(1), at(2)] : [at(0), at(0), at(0)];
    image.data.set([...rgb, 255], p * 4);
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

// ---------------------------------------------------------------- layout

const title = h('h1', {});
const lead = h('p', { class: 'lead', 'data-field': 'summary' });
const problem = h('p', { class: 'problem', role: 'alert', 'data-field': 'problem' });
const splitSelect = h('select', { 'aria-label': 'Split', 'data-field': 'split' }, h('option', { value: 'train' }, 'training set'), h('option', { value: 'test' }, 'test set'));
const classSelect = h('select', { 'aria-label': 'Class', 'data-field': 'class' });
const previousButton = h('vscode-button', { 'data-field': 'previous' }, '‹ Previous');
const nextButton = h('vscode-button', { 'data-field': 'next' }, 'Next ›');
previousButton.secondary = true;
nextButton.secondary = true;
const position = h('span', { class: 'value', 'data-field': 'position' });
const grid = h('div', { class: 'samples', 'data-field': 'grid' });
const statistics = h('dl', { 'data-field': 'statistics' });
const countsCanvas = h('canvas', { role: 'img', 'aria-label': 'Images per class' });
const inspector = h('section', { class: 'inspector', 'data-field': 'inspector' });
const preview = h('div', { class: 'samples', 'data-field': 'augmented' });

const ask = (offset: number) => host.post({ type: 'page', split: splitSelect.value === 'test' ? 'test' : 'train', offset: Math.max(0, offset), classFilter: classSelect.value === '' ? null : Number(classSelect.value) });
splitSelect.addEventListener('change', () => ask(0));
classSelect.addEventListener('change', () => ask(0));
previousButton.addEventListener('click', () => page && ask(page.offset - browserPageSize));
nextButton.addEventListener('click', () => page && ask(page.offset + browserPageSize));

root.replaceChildren(
  h('header', {}, h('div', { class: 'logo' }), h('div', {}, title, lead)),
  problem,
  h('div', { class: 'toolbar' }, splitSelect, classSelect, previousButton, position, nextButton),
  h('div', { class: 'grid browser' }, h('section', { class: 'card' }, h('h2', {}, 'Images'), grid), h('section', { class: 'card' }, h('h2', {}, 'Images per class'), h('div', { class: 'chart' }, countsCanvas), h('h2', {}, 'What the trainer normalizes with'), statistics)),
  inspector,
);
root.classList.add('dashboard');
root.setAttribute('aria-busy', 'false');

const countsChart = new Chart<'bar', number[], string>(countsCanvas, {
  type: 'bar',
  data: { labels: [], datasets: [{ label: 'images', data: [] }] },
  options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { tooltip: {} }, scales: { y: { beginAtZero: true } } },
});

function themeColours(): void {
  const style = getComputedStyle(document.body);
  const colour = style.getPropertyValue('--vscode-charts-blue').trim() || '#3794ff';
  Chart.defaults.color = style.getPropertyValue('--vscode-foreground').trim() || '#ccc';
  const [bars] = countsChart.data.datasets;
  if (bars) bars.backgroundColor = colour;
  countsChart.update();
}
new MutationObserver(themeColours).observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeColours();

// ---------------------------------------------------------------- messages

function receive(message: DatasetToWebview): void {
  switch (message.type) {
    case 'problem':
      problem.textContent = message.message;
      problem.hidden = false;
      return;
    case 'summary':
      return showSummary(message);
    case 'page':
      return showPage(message);
    case 'augmented':
      return showAugmented(bytesOf(message.pixels));
  }
}

function showSummary(view: DatasetSummary): void {
  const first = !summary;
  summary = view;
  host.setState({ dataset: view.dataset });
  problem.hidden = true;
  title.textContent = `Dataset · ${view.dataset}`;
  const which = view.splits.length === 1 ? '' : view.split === 'train' ? ' training' : ' test';
  const size = view.shape.length ? ` of ${view.shape.join('×')}` : '';
  lead.textContent = `${view.count.toLocaleString('en-US')}${which} images${size}, ${view.classes.length} classes${view.folder ? ` · ${view.folder}` : ''}`;
  const testOption = splitSelect.querySelector<HTMLOptionElement>('option[value=test]');
  if (testOption) testOption.disabled = !view.splits.includes('test');
  if (first) classSelect.replaceChildren(h('option', { value: '' }, 'all classes'), ...view.classes.map((name, i) => h('option', { value: String(i) }, name)));
  countsChart.data.labels = view.classes;
  const [bars] = countsChart.data.datasets;
  if (bars) bars.data = view.classCounts;
  countsChart.update();
  const channelNames = view.shape[0] === 3 ? ['R', 'G', 'B'] : ['grey'];
  statistics.replaceChildren(
    ...(view.mean.length
      ? channelNames.flatMap((name, c) => [h('dt', {}, name), h('dd', {}, `mean ${(view.mean[c] ?? 0).toFixed(4)} · std ${(view.std[c] ?? 0).toFixed(4)}`)])
      : [h('dd', { class: 'hint' }, 'The trainer computes them from the training images, once resized, when a run starts.')]),
  );
}

function showPage(view: Page): void {
  page = view;
  const shape = summary?.shape ?? [1, 28, 28];
  const size = shape.reduce((a, b) => a * b, 1);
  const bytes = bytesOf(view.pixels);
  position.textContent = view.total ? `${view.offset + 1}–${view.offset + view.indices.length} of ${view.total.toLocaleString('en-US')}` : 'no images';
  previousButton.disabled = view.offset === 0;
  nextButton.disabled = view.offset + view.indices.length >= view.total;
  grid.replaceChildren(
    ...view.indices.map((index, n) => {
      const label = view.labels[n] ?? 0;
      const file = view.images?.[n];
      const picture = file === undefined ? imageCanvas(bytes, n * size, shape) : file ? h('img', { src: file, alt: view.names?.[n] ?? '' }) : h('span', { class: 'hint' }, 'over 1 MB');
      const figure = h('figure', { tabindex: '0', title: `#${index}: ${view.names?.[n] ?? ''} ${summary?.classes[label] ?? label}`.replace('  ', ' '), 'data-index': String(index) }, picture, h('figcaption', {}, summary?.classes[label] ?? String(label)));
      const open = () => (picture instanceof HTMLImageElement ? inspectFile(index, picture, label) : inspect(index, bytes.slice(n * size, (n + 1) * size), label, shape));
      figure.addEventListener('click', open);
      figure.addEventListener('keydown', (event) => (event.key === 'Enter' || event.key === ' ') && open());
      return figure;
    }),
  );
}

/** One image enlarged with every pixel's value on it, per channel for colour images, and the augmentation preview. */
function inspect(index: number, pixels: Uint8Array, label: number, shape: readonly number[]): void {
  if (!summary || !page) return;
  selected = { index, pixels, label, shape };
  const [channels = 1, height = 0, width = 0] = shape;
  const planes = channels === 3 ? [{ name: 'R', channel: 0 }, { name: 'G', channel: 1 }, { name: 'B', channel: 2 }] : [{ name: 'values', channel: 0 }];
  const plane = height * width;
  // Every value written out while it stays legible; larger images show their planes as pictures.
  const enlarged = planes.map(({ name, channel }) => {
    if (height * width > 64 * 64) return h('figure', {}, h('figcaption', {}, name), imageCanvas(pixels, 0, shape, channels === 3 ? channel : undefined));
    const table = h('table', { class: 'pixels', 'data-channel': name });
    for (let y = 0; y < height; y++) {
      const row = h('tr', {});
      for (let x = 0; x < width; x++) {
        const value = pixels[channel * plane + y * width + x] ?? 0;
        const cell = h('td', {}, String(value));
        cell.style.setProperty('--v', String(value / 255));
        cell.classList.add(channels === 3 ? `c${channel}` : 'grey');
        // Dark digits on light cells: red and blue stay dark enough for white at any value.
        if ((channels === 1 || channel === 1) && value > 140) cell.classList.add('bright');
        row.append(cell);
      }
      table.append(row);
    }
    return h('figure', {}, h('figcaption', {}, name), table);
  });
  const again = h('vscode-button', { 'data-field': 'draw-again' }, 'Draw again');
  again.secondary = true;
  again.addEventListener('click', () => requestAugmented());
  const augment = summary.augmentation;
  const described = [augment.flip ? 'horizontal flips' : '', augment.rotation ? `rotations within ±${augment.rotation}°` : '', augment.cropPadding ? `crops with ${augment.cropPadding} px padding` : ''].filter(Boolean).join(', ') || 'none';
  inspector.replaceChildren(
    h('h2', {}, `#${index} · ${summary.classes[label] ?? label}`),
    h('div', { class: 'channels' }, h('figure', {}, h('figcaption', {}, `image, ${shape.join('×')}`), imageCanvas(pixels, 0, shape)), ...enlarged),
    h('h2', {}, `Augmentation: ${described}`, again),
    preview,
  );
  requestAugmented();
  inspector.scrollIntoView({ block: 'start' });
}

let draws = 0;

/** The host draws a named dataset's images; an image folder's, decoded here, are drawn here by the same moves. */
function requestAugmented(): void {
  if (!selected || !page || !summary) return;
  if (summary.shape.length) return host.post({ type: 'augment', split: page.split, index: selected.index });
  showAugmented(augmentPixels(selected.pixels, selected.shape, summary.augmentation, random(selected.index * 7919 + ++draws)));
}

function showAugmented(bytes: Uint8Array): void {
  if (!selected) return;
  const shape = selected.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  preview.replaceChildren(...Array.from({ length: augmentationDraws }, (_, n) => h('figure', {}, imageCanvas(bytes, n * size, shape))));
}

/** An image folder's picture, decoded by the page. */
function inspectFile(index: number, picture: HTMLImageElement, label: number): void {
  if (!picture.naturalWidth || !picture.naturalHeight) return;
  const { pixels, shape } = imagePixels(picture, picture.naturalWidth, picture.naturalHeight);
  inspect(index, pixels, label, shape);
}
