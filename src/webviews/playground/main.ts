// The filter playground: an image, a kernel edited in a grid (or picked from the course's presets),
// the filtered image as signed values and as the clipped 8-bit picture OpenCV would give, the edge
// handling with its output size, a stack of filters as a conv layer with ReLU and pooling, the
// frequency view, and the layer written as PyTorch. Every figure is computed here, as the user types.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { convolve, type EdgeMode, outputSize, type Plane, pool, presetKernels, relu } from '../../core/filters/convolve';
import { spectrum } from '../../core/filters/spectrum';
import { maxFilters, maxKernelSize, type PlaygroundImage, playgroundLayer, type PlaygroundLayer, type PlaygroundToHost, playgroundToWebview, type PlaygroundToWebview } from '../../core/protocol/playground';
import { safeParse } from '../../core/schema';
import { h } from '../shared/dom';
import { connectToHost } from '../shared/host';
import { bytesOf, imagePixels } from '../shared/pixels';
import { draw, imagePlanes, signedScale } from '../shared/planes';

const root = document.getElementById('root') as HTMLElement;
const host = connectToHost<PlaygroundToWebview, PlaygroundToHost>(playgroundToWebview, (message) => receive(message));

type Filter = PlaygroundLayer['filters'][number];
const preset = (name: string): Filter => ({ name, kernel: (presetKernels[name] ?? [[1]]).map((row) => [...row]) });

const saved = safeParse(playgroundLayer, (host.savedState as { layer?: unknown } | undefined)?.layer);
const layer: PlaygroundLayer = saved.ok && saved.value.filters.length ? saved.value : { filters: [preset('Sobel x')], edge: 'extend', channels: 'grey', relu: true, pool: { kind: 'max', size: 2, stride: 2 } };
let focused = 0;
/** The picture as decoded: C×H×W bytes, and the file it came from. */
let source: { name: string; path: string | null; pixels: Uint8Array; shape: readonly [number, number, number] } | undefined;
/** The layer's input: one grey plane, or R, G and B. */
let planes: Plane[] = [];
/** The focused filter's output, per plane, for the readout under the pointer. */
let outputs: Plane[] = [];

// ---------------------------------------------------------------- layout

const button = (label: string, field: string, secondary = true) => {
  const b = h('vscode-button', { 'data-field': field }, label);
  b.secondary = secondary;
  return b;
};
const select = (field: string, label: string, options: [string, string][]) => h('select', { 'data-field': field, 'aria-label': label }, ...options.map(([value, text]) => h('option', { value }, text)));
const figure = (caption: HTMLElement, canvas: HTMLCanvasElement) => h('figure', {}, canvas, caption);

const imageName = h('p', { class: 'lead', 'data-field': 'image-name' });
const problem = h('p', { class: 'problem', role: 'alert', 'data-field': 'problem', hidden: '' });
const openButton = button('Open Image…', 'open-image', false);
const datasetButton = button('Dataset Sample…', 'dataset-sample');
const patternButton = button('Test Pattern', 'pattern');
const channelSelect = select('channels', 'Channels', [['grey', 'grey (as cv2.cvtColor)'], ['rgb', 'R, G and B apart']]);
const edgeSelect = select('edge', 'Edge handling', [['extend', 'extend the border'], ['zero', 'zero padding'], ['crop', 'crop (the output shrinks)']]);
const frequencyBox = h('vscode-checkbox', { label: 'Frequency view', 'data-field': 'frequency' });

const filterTabs = h('div', { class: 'filter-tabs', role: 'tablist', 'data-field': 'filters' });
const presetSelect = select('preset', 'Preset', [['', 'Preset…'], ...Object.keys(presetKernels).map((name): [string, string] => [name, name])]);
const sizeSelect = select('size', 'Kernel size', []);
const kernelTable = h('table', { class: 'kernel', 'data-field': 'kernel' });
const kernelNote = h('p', { class: 'hint', 'data-field': 'sum' });
const negateButton = button('Negate', 'negate');
const transposeButton = button('Transpose', 'transpose');

const inputCanvas = h('canvas', { 'data-field': 'input' });
const signedCanvas = h('canvas', { 'data-field': 'signed' });
const clippedCanvas = h('canvas', { 'data-field': 'clipped' });
const inputCaption = h('figcaption', {});
const signedCaption = h('figcaption', {});
const clippedCaption = h('figcaption', {});
const legendScale = [h('span', { 'data-field': 'scale-low' }), h('span', { 'data-field': 'scale-high' })] as const;
const readout = h('p', { class: 'readout', 'data-field': 'readout' }, 'Point at an image for its values.');

const spectrumCard = h('section', { class: 'card', 'data-field': 'spectra', hidden: '' });
const inputSpectrum = h('canvas', { 'data-field': 'input-spectrum' });
const outputSpectrum = h('canvas', { 'data-field': 'output-spectrum' });

const reluBox = h('vscode-checkbox', { label: 'ReLU', 'data-field': 'relu' });
const poolSelect = select('pool', 'Pooling', [['', 'no pooling'], ['max', 'max pooling'], ['avg', 'average pooling']]);
const poolSize = h('input', { type: 'number', min: '1', max: '16', 'data-field': 'pool-size', 'aria-label': 'Pooling size' });
const poolStride = h('input', { type: 'number', min: '1', max: '16', 'data-field': 'pool-stride', 'aria-label': 'Pooling stride' });
const shapes = h('p', { class: 'shapes', 'data-field': 'shapes' });
const tiles = h('div', { class: 'tiles', 'data-field': 'tiles' });
const codeButton = button('Write PyTorch Code', 'write-code', false);
const codeNote = h('span', { class: 'hint' });

root.classList.add('dashboard', 'playground');
root.replaceChildren(
  h('header', {}, h('div', { class: 'logo' }), h('div', {}, h('h1', {}, 'Filter playground'), imageName)),
  problem,
  h('div', { class: 'toolbar' }, openButton, datasetButton, patternButton, channelSelect, edgeSelect, frequencyBox, h('span', { class: 'hint drop' }, 'or drop an image here (hold Shift)')),
  h(
    'div',
    { class: 'grid playground-main' },
    h('section', { class: 'card' }, h('h2', {}, 'Kernel'), filterTabs, h('div', { class: 'toolbar' }, presetSelect, sizeSelect, negateButton, transposeButton), kernelTable, kernelNote),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Filtered'),
      h('div', { class: 'images' }, figure(inputCaption, inputCanvas), figure(signedCaption, signedCanvas), figure(clippedCaption, clippedCanvas)),
      h('div', { class: 'legend' }, legendScale[0], h('span', { class: 'ramp' }), legendScale[1], h('span', { class: 'hint' }, 'signed: blue below zero, orange above, black at zero')),
      readout,
    ),
  ),
  spectrumCard,
  h('section', { class: 'card layer' }, h('h2', {}, 'Conv layer', h('span', { class: 'control' }, reluBox, poolSelect, 'size', poolSize, 'stride', poolStride)), shapes, tiles, h('div', { class: 'actions' }, codeButton, codeNote)),
);
spectrumCard.append(
  h('h2', {}, 'Frequency view'),
  h('div', { class: 'images' }, figure(h('figcaption', {}, 'image'), inputSpectrum), figure(h('figcaption', {}, 'filtered'), outputSpectrum)),
  h('p', { class: 'hint' }, 'Amplitude spectra, log scale, zero frequency in the middle: a blur keeps the centre (low frequencies), an edge filter the rim (high ones).'),
);
root.setAttribute('aria-busy', 'false');

// ---------------------------------------------------------------- drawing

const size = (p: Plane | undefined) => `${p?.height ?? 0}×${p?.width ?? 0}`;
const number = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 3 : 1)).replace('-', '−');

// ---------------------------------------------------------------- the kernel editor

const current = (): Filter => layer.filters[focused] ?? layer.filters[0] ?? preset('Sobel x');

/** Reads "0.25", "-1", "1/9" or "−2" as a weight; undefined for anything else. */
function weightOf(text: string): number | undefined {
  const match = /^\s*([-−]?\d*\.?\d+)\s*(?:\/\s*(\d*\.?\d+))?\s*$/.exec(text);
  if (!match?.[1]) return undefined;
  const value = Number(match[1].replace('−', '-')) / (match[2] ? Number(match[2]) : 1);
  return Number.isFinite(value) ? value : undefined;
}

function showKernel(): void {
  const { kernel } = current();
  const [rows, columns] = [kernel.length, kernel[0]?.length ?? 0];
  const sizes = [...new Set([...Array.from({ length: (maxKernelSize + 1) / 2 }, (_, i) => 2 * i + 1), rows])].sort((a, b) => a - b);
  sizeSelect.replaceChildren(...sizes.map((s) => h('option', { value: String(s) }, s === rows ? `${rows}×${columns}` : `${s}×${s}`)));
  sizeSelect.value = String(rows);
  kernelTable.replaceChildren(
    ...kernel.map((row, i) =>
      h(
        'tr',
        {},
        ...row.map((weight, j) => {
          const cell = h('input', { type: 'text', inputmode: 'decimal', value: number(weight), 'aria-label': `weight row ${i + 1} column ${j + 1}`, 'data-row': String(i), 'data-column': String(j) });
          cell.addEventListener('input', () => {
            const value = weightOf(cell.value);
            cell.setAttribute('aria-invalid', String(value === undefined));
            if (value === undefined) return;
            const filter = current();
            const weights = filter.kernel[i];
            if (weights) weights[j] = value;
            if (!filter.name.endsWith('(edited)')) filter.name = `${filter.name} (edited)`;
            showTabs();
            changed();
          });
          return h('td', {}, cell);
        }),
      ),
    ),
  );
  showNote();
}

function showNote(): void {
  const sum = current().kernel.flat().reduce((a, b) => a + b, 0);
  const meaning = Math.abs(sum) < 1e-9 ? 'flat areas become 0: it finds changes (edges)' : Math.abs(sum - 1) < 1e-6 ? 'brightness is kept: it smooths or sharpens' : 'brightness is scaled by it';
  kernelNote.textContent = `Weights sum to ${number(Math.round(sum * 1e6) / 1e6)}: ${meaning}.`;
}

function showTabs(): void {
  filterTabs.replaceChildren(
    ...layer.filters.map((filter, n) => {
      const tab = h('button', { role: 'tab', 'aria-selected': String(n === focused), class: 'tab', title: filter.name }, filter.name);
      tab.addEventListener('click', () => {
        focused = n;
        showTabs();
        showKernel();
        changed();
      });
      const remove = h('button', { class: 'remove', 'aria-label': `Remove ${filter.name}`, title: 'Remove' }, '×');
      remove.disabled = layer.filters.length === 1;
      remove.addEventListener('click', () => {
        layer.filters.splice(n, 1);
        focused = Math.min(focused, layer.filters.length - 1);
        showTabs();
        showKernel();
        changed();
      });
      return h('span', { class: 'filter-tab' }, tab, remove);
    }),
  );
  if (layer.filters.length < maxFilters) {
    const add = h('button', { class: 'tab add', 'data-field': 'add-filter', title: 'Add a filter to the layer' }, '+ Filter');
    add.addEventListener('click', () => {
      // The next preset not in the layer yet: Sobel x then Sobel y is the course's pair.
      const names = Object.keys(presetKernels);
      const next = names.find((name) => !layer.filters.some((f) => f.name === name)) ?? names[0] ?? 'Sobel x';
      layer.filters.push(preset(next));
      focused = layer.filters.length - 1;
      showTabs();
      showKernel();
      changed();
    });
    filterTabs.append(add);
  }
}

presetSelect.addEventListener('change', () => {
  if (!presetSelect.value) return;
  layer.filters[focused] = preset(presetSelect.value);
  host.post({ type: 'presetApplied', name: presetSelect.value });
  presetSelect.value = '';
  showTabs();
  showKernel();
  changed();
});
sizeSelect.addEventListener('change', () => {
  const filter = current();
  const side = Number(sizeSelect.value);
  // Grown or shrunk about the centre, new weights 0.
  const [rows, columns] = [filter.kernel.length, filter.kernel[0]?.length ?? 0];
  const [dy, dx] = [Math.floor((rows - side) / 2), Math.floor((columns - side) / 2)];
  filter.kernel = Array.from({ length: side }, (_, i) => Array.from({ length: side }, (_, j) => filter.kernel[i + dy]?.[j + dx] ?? 0));
  filter.name = `${filter.name.replace(/ \(edited\)$/, '')} (edited)`;
  showTabs();
  showKernel();
  changed();
});
negateButton.addEventListener('click', () => {
  const filter = current();
  filter.kernel = filter.kernel.map((row) => row.map((v) => (v === 0 ? 0 : -v)));
  filter.name = filter.name.endsWith(', negated') ? filter.name.slice(0, -', negated'.length) : `${filter.name}, negated`;
  showTabs();
  showKernel();
  changed();
});
transposeButton.addEventListener('click', () => {
  const filter = current();
  filter.kernel = (filter.kernel[0] ?? []).map((_, j) => filter.kernel.map((row) => row[j] ?? 0));
  filter.name = filter.name.endsWith(', transposed') ? filter.name.slice(0, -', transposed'.length) : `${filter.name}, transposed`;
  showTabs();
  showKernel();
  changed();
});

// ---------------------------------------------------------------- the layer

channelSelect.addEventListener('change', () => {
  layer.channels = channelSelect.value === 'rgb' ? 'rgb' : 'grey';
  makePlanes();
  changed();
});
edgeSelect.addEventListener('change', () => {
  layer.edge = edgeSelect.value as EdgeMode;
  changed();
});
frequencyBox.addEventListener('change', () => {
  spectrumCard.hidden = !frequencyBox.checked;
  changed();
});
reluBox.addEventListener('change', () => {
  layer.relu = reluBox.checked;
  changed();
});
const poolChanged = () => {
  const side = (input: HTMLInputElement) => Math.min(16, Math.max(1, Math.round(Number(input.value)) || 2));
  layer.pool = poolSelect.value === 'max' || poolSelect.value === 'avg' ? { kind: poolSelect.value, size: side(poolSize), stride: side(poolStride) } : null;
  changed();
};
poolSelect.addEventListener('change', poolChanged);
poolSize.addEventListener('input', poolChanged);
poolStride.addEventListener('input', poolChanged);

codeButton.addEventListener('click', () => {
  const [, height = 0, width = 0] = source?.shape ?? [];
  host.post({ type: 'writeCode', layer, image: { path: source?.path ?? null, width, height } });
});

function showControls(): void {
  channelSelect.value = layer.channels;
  edgeSelect.value = layer.edge;
  reluBox.checked = layer.relu;
  poolSelect.value = layer.pool?.kind ?? '';
  poolSize.value = String(layer.pool?.size ?? 2);
  poolStride.value = String(layer.pool?.stride ?? 2);
  poolSize.disabled = poolStride.disabled = !layer.pool;
}

// ---------------------------------------------------------------- rendering

/** The input planes from the picture: grey as cv2.cvtColor computes it (rounded to bytes), or its channels. */
function makePlanes(): void {
  if (!source) return;
  const [channels, height, width] = source.shape;
  const count = width * height;
  const own = imagePlanes(source.pixels, source.shape);
  // A grey picture taken "R, G and B apart" is its one plane three times (the planes are only read).
  if (channels === 1) planes = layer.channels === 'rgb' ? [own[0], own[0], own[0]].filter((p): p is Plane => p !== undefined) : own;
  else if (layer.channels === 'rgb') planes = own;
  else {
    const data = new Float32Array(count);
    const { pixels } = source;
    for (let p = 0; p < count; p++) data[p] = Math.round(0.299 * (pixels[p] ?? 0) + 0.587 * (pixels[count + p] ?? 0) + 0.114 * (pixels[2 * count + p] ?? 0));
    planes = [{ width, height, data }];
  }
  draw(inputCanvas, planes, 'bytes');
  inputCaption.textContent = `input, ${planes.length}×${size(planes[0])}`;
}

let secondary: number | undefined;
let changedAt = 0;

/** Re-renders after any change: the focused filter now, then the layer's other maps and the spectra in later tasks. */
function changed(): void {
  showControls();
  host.setState({ layer, imagePath: source?.path ?? null });
  if (!planes.length) return;
  const started = (changedAt = performance.now());
  const kernel = current().kernel;
  outputs = planes.map((plane) => convolve(plane, kernel, layer.edge));
  const scale = signedScale(outputs);
  draw(signedCanvas, outputs, 'signed', scale);
  legendScale.forEach((span, i) => (span.textContent = number((i ? 1 : -1) * Math.round(scale))));
  draw(clippedCanvas, outputs, 'bytes');
  const out = outputs[0];
  signedCaption.textContent = `${current().name}: signed, ${size(out)}`;
  clippedCaption.textContent = `as an 8-bit image (clipped to 0–255)`;
  document.body.dataset['renderMs'] = (performance.now() - started).toFixed(1);
  showShapes();
  if (secondary !== undefined) clearTimeout(secondary);
  secondary = window.setTimeout(() => renderLayer(0), 30);
}

function showShapes(): void {
  const input = planes[0];
  if (!input) return;
  const depth = layer.filters.length * planes.length;
  const kernel = current().kernel;
  const { width, height } = outputSize(input.width, input.height, kernel, layer.edge);
  const steps = [`${planes.length}×${size(input)}`, `Conv2d(${planes.length}, ${depth}, ${kernel.length}×${kernel[0]?.length ?? 0}${layer.channels === 'rgb' ? ', groups=3' : ''}, ${layer.edge})`, `${depth}×${height}×${width}`];
  if (layer.relu) steps.push('ReLU', `${depth}×${height}×${width}`);
  if (layer.pool) {
    const { kind, size: side, stride } = layer.pool;
    const [ph, pw] = [Math.max(0, Math.floor((height - side) / stride) + 1), Math.max(0, Math.floor((width - side) / stride) + 1)];
    steps.push(`${kind === 'max' ? 'MaxPool2d' : 'AvgPool2d'}(${side}, ${stride})`, `${depth}×${ph}×${pw}`);
  }
  shapes.replaceChildren(...steps.map((step, i) => h('span', { class: i % 2 ? 'op' : 'shape' }, step)));
  const sizes = new Set(layer.filters.map((f) => `${f.kernel.length}×${f.kernel[0]?.length ?? 0}`));
  codeButton.disabled = sizes.size > 1;
  codeNote.textContent = sizes.size > 1 ? `One nn.Conv2d holds filters of one size; these are ${[...sizes].join(' and ')}.` : 'Opens the layer as nn.Conv2d with these fixed weights in a new editor.';
}

/** One filter's row of maps per task, so typing stays smooth with a deep layer on a large image. */
function renderLayer(n: number): void {
  if (n === 0) {
    tiles.replaceChildren();
    const [input, output] = [luminance(planes), luminance(outputs)];
    if (frequencyBox.checked && input && output) {
      draw(inputSpectrum, [normalized(spectrum(input))], 'bytes');
      draw(outputSpectrum, [normalized(spectrum(output))], 'bytes');
    }
  }
  const filter = layer.filters[n];
  if (!filter) {
    document.body.dataset['layerMs'] = (performance.now() - changedAt).toFixed(1);
    return;
  }
  const conv = n === focused ? outputs : planes.map((plane) => convolve(plane, filter.kernel, layer.edge));
  const scale = signedScale(conv);
  const stages: [string, Plane[]][] = [['conv', conv]];
  let maps = conv;
  if (layer.relu) stages.push(['ReLU', (maps = maps.map(relu))]);
  if (layer.pool) {
    const { kind, size: side, stride } = layer.pool;
    stages.push([`${kind} pool`, (maps = maps.map((m) => pool(m, side, stride, kind)))]);
  }
  tiles.append(
    h(
      'div',
      { class: 'tile-row', 'data-filter': String(n) },
      h('span', { class: 'tile-name' }, filter.name),
      ...stages.map(([name, values]) => {
        const canvas = h('canvas', {});
        draw(canvas, values.map((plane) => thumbnail(plane, 320)), 'signed', scale);
        return figure(h('figcaption', {}, `${name} · ${size(values[0])}`), canvas);
      }),
    ),
  );
  secondary = window.setTimeout(() => renderLayer(n + 1), 0);
}

/** At most `maxWidth` wide, by nearest pixel: the layer's maps are drawn small. */
function thumbnail(plane: Plane, maxWidth: number): Plane {
  if (plane.width <= maxWidth) return plane;
  const step = plane.width / maxWidth;
  const [width, height] = [maxWidth, Math.max(1, Math.round(plane.height / step))];
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = Math.min(plane.height - 1, Math.floor(y * step)) * plane.width;
    for (let x = 0; x < width; x++) data[y * width + x] = plane.data[row + Math.floor(x * step)] ?? 0;
  }
  return { width, height, data };
}

/** One plane for the spectrum: the grey one, or the mean of R, G and B. */
function luminance(values: Plane[]): Plane | undefined {
  const [first] = values;
  if (!first || values.length === 1) return first;
  const data = new Float32Array(first.data.length);
  for (const plane of values) plane.data.forEach((v, i) => (data[i] = (data[i] ?? 0) + v / values.length));
  return { ...first, data };
}

/** Scaled to 0–255 for display. */
function normalized(plane: Plane): Plane {
  const max = Math.max(...plane.data) || 1;
  return { ...plane, data: plane.data.map((v) => (255 * v) / max) };
}

// The values under the pointer: the input's for the input, the output's (signed and clipped) for the others.
for (const canvas of [inputCanvas, signedCanvas, clippedCanvas]) {
  canvas.addEventListener('mousemove', (event) => {
    const rect = canvas.getBoundingClientRect();
    const x = Math.floor(((event.clientX - rect.left) / rect.width) * canvas.width);
    const y = Math.floor(((event.clientY - rect.top) / rect.height) * canvas.height);
    readout.textContent = describePixel(canvas === inputCanvas ? 'input' : 'output', x, y);
  });
}

function describePixel(which: 'input' | 'output', x: number, y: number): string {
  const values = which === 'input' ? planes : outputs;
  const at = (plane: Plane | undefined) => plane?.data[y * plane.width + x] ?? 0;
  const names = values.length === 3 ? ['R ', 'G ', 'B '] : [''];
  if (which === 'input') return `input (${x}, ${y}): ${values.map((p, c) => `${names[c]}${number(at(p))}`).join(' · ')}`;
  return `output (${x}, ${y}): ${values.map((p, c) => `${names[c]}${number(at(p))} → ${Math.min(255, Math.max(0, Math.round(at(p))))}`).join(' · ')} in 8 bits`;
}

// ---------------------------------------------------------------- images

function receive(message: PlaygroundToWebview): void {
  if (message.type === 'problem') {
    problem.textContent = message.message;
    problem.hidden = false;
    return;
  }
  void showImage(message);
}

async function showImage(image: PlaygroundImage): Promise<void> {
  problem.hidden = true;
  if (image.url) {
    const picture = new Image();
    picture.src = image.url;
    try {
      await picture.decode();
    } catch {
      return fail(`${image.name} could not be decoded as an image.`);
    }
    setSource(image.name, image.path, imagePixels(picture, picture.naturalWidth, picture.naturalHeight));
  } else if (image.pixels) {
    const pixels = bytesOf(image.pixels);
    const [channels = 1, height = 0, width = 0] = image.shape;
    if (pixels.length !== channels * height * width || (channels !== 1 && channels !== 3)) return fail(`${image.name}: ${pixels.length} bytes do not make a ${image.shape.join('×')} image.`);
    setSource(image.name, null, { pixels, shape: [channels, height, width] });
  }
}

function fail(message: string): void {
  problem.textContent = message;
  problem.hidden = false;
}

function setSource(name: string, path: string | null, picture: { pixels: Uint8Array; shape: [number, number, number] }): void {
  source = { name, path, ...picture };
  const [channels, height, width] = picture.shape;
  imageName.textContent = `${name} · ${width}×${height}, ${channels === 1 ? 'grey' : 'colour'}`;
  makePlanes();
  changed();
}

/** The built-in picture: edges in every direction, a gradient and fine detail, so each preset shows what it does. */
function testPattern(): void {
  const [width, height] = [640, 400];
  const canvas = h('canvas', { width: String(width), height: String(height) });
  const context = canvas.getContext('2d');
  if (!context) return;
  const gradient = context.createLinearGradient(0, 0, width, 0);
  gradient.addColorStop(0, '#202020');
  gradient.addColorStop(1, '#d0d0d0');
  context.fillStyle = gradient;
  context.fillRect(0, 0, width, height);
  context.fillStyle = '#f0f0f0';
  context.fillRect(60, 60, 160, 120);
  context.fillStyle = '#c03030';
  context.beginPath();
  context.arc(420, 130, 80, 0, 2 * Math.PI);
  context.fill();
  context.fillStyle = '#3050c0';
  context.beginPath();
  context.moveTo(120, 360);
  context.lineTo(260, 220);
  context.lineTo(330, 360);
  context.fill();
  for (let x = 380; x < 600; x += 12) {
    context.fillStyle = (x / 12) % 2 ? '#101010' : '#f8f8f8';
    context.fillRect(x, 240, 6, 130);
  }
  setSource('test pattern', null, imagePixels(canvas, width, height));
}

openButton.addEventListener('click', () => host.post({ type: 'openImage', from: 'workspace' }));
datasetButton.addEventListener('click', () => host.post({ type: 'openImage', from: 'dataset' }));
patternButton.addEventListener('click', testPattern);

// VS Code opens a dropped file in an editor unless Shift is held; with it, the page gets the file.
document.addEventListener('dragover', (event) => event.preventDefault());
document.addEventListener('drop', (event) => {
  event.preventDefault();
  const file = event.dataTransfer?.files[0];
  if (!file) return;
  const url = URL.createObjectURL(file);
  void showImage({ type: 'image', name: file.name, path: null, url, pixels: null, shape: [] }).finally(() => URL.revokeObjectURL(url));
});

showTabs();
showKernel();
showControls();
// Until the host sends an image (a reload brings back the last file), the test pattern.
testPattern();
