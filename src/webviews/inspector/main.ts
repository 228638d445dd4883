// The layer inspector: a trained conv layer's filters as tiles (per input channel, or as colour for a
// first layer over RGB), zoomable, with each weight under the pointer, optionally beside the same
// filters in another checkpoint and their difference; and the layer's feature maps for a test image,
// before and after its activation and after the pooling that follows, sizes shown.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { changeBetween } from '../../core/checkpoints/weightChange';
import type { Plane } from '../../core/filters/convolve';
import { type InspectorToHost, inspectorToWebview, type InspectorToWebview } from '../../core/protocol/inspector';
import { h } from '../shared/dom';
import { connectToHost } from '../shared/host';
import { bytesOf } from '../shared/pixels';
import { draw, imagePlanes } from '../shared/planes';

type LayerView = Extract<InspectorToWebview, { type: 'layer' }>;
type FeatureMaps = Extract<InspectorToWebview, { type: 'featureMaps' }>;
type TopPatches = Extract<InspectorToWebview, { type: 'topPatches' }>;

const root = document.getElementById('root') as HTMLElement;
const host = connectToHost<InspectorToWebview, InspectorToHost>(inspectorToWebview, (message) => receive(message));
/** Input channels drawn per filter; wider layers say how many more there are. */
const maxChannelsShown = 16;

const floats = (base64: string) => {
  const bytes = bytesOf(base64);
  return new Float32Array(bytes.buffer, 0, bytes.length / 4);
};
const number = (v: number) => v.toFixed(4).replace('-', '−');
/** The largest magnitude among the values: one signed scale for a set of tiles. */
const largest = (values: Float32Array | undefined) => {
  let m = 0;
  for (const v of values ?? []) m = Math.max(m, Math.abs(v));
  return m;
};

const title = h('h1', {});
const lead = h('p', { class: 'lead', 'data-field': 'summary' });
const problem = h('p', { class: 'problem', role: 'alert', 'data-field': 'problem', hidden: '' });
const zoom = h('input', { type: 'range', min: '12', max: '128', value: '48', 'aria-label': 'Tile size', 'data-field': 'zoom' });
const rgbBox = h('vscode-checkbox', { label: 'As colour (R, G, B)', 'data-field': 'rgb' });
const compareSelect = h('select', { 'data-field': 'compare', 'aria-label': 'Compare with another checkpoint' });
const comparisonLine = h('p', { class: 'comparison', 'data-field': 'comparison', hidden: '' });
const filters = h('div', { class: 'filters', 'data-field': 'filters' });
const filterNote = h('p', { class: 'hint' });
const readout = h('p', { class: 'readout', 'data-field': 'readout' }, 'Point at a weight for its value.');
const runButton = h('vscode-button', { 'data-field': 'run' }, 'Test Image');
const fileButton = h('vscode-button', { 'data-field': 'run-file' }, 'Workspace Image…');
fileButton.secondary = true;
const sampleSelect = h('select', { 'data-field': 'sample', 'aria-label': 'Test images searched' }, ...[1000, 5000, 1_000_000].map((n) => h('option', { value: String(n) }, n === 1_000_000 ? 'all test images' : `${n.toLocaleString('en-US')} test images`)));
const patchesButton = h('vscode-button', { 'data-field': 'find-patches' }, 'Find Top Patches');
const patchesBusy = h('p', { class: 'hint', 'data-field': 'patches-busy' });
const patchesProgress = h('progress', { 'data-field': 'patches-progress', max: '1', value: '0', hidden: '' });
const patches = h('div', { class: 'patches', 'data-field': 'patches' });
const actionButtons = [runButton, fileButton, patchesButton];
/** Which request the host is answering: busy and progress messages go to its card. */
let pending: 'featureMaps' | 'topPatches' | undefined;
const dashboardButton = h('vscode-button', { 'data-field': 'dashboard' }, 'Show Training Dashboard');
dashboardButton.secondary = true;
dashboardButton.addEventListener('click', () => host.post({ type: 'showDashboard' }));
const trustButton = h('vscode-button', { 'data-field': 'manage-trust', hidden: '' }, 'Manage Workspace Trust…');
trustButton.addEventListener('click', () => host.post({ type: 'manageTrust' }));
const busy = h('p', { class: 'hint', 'data-field': 'busy' });
const maps = h('div', { class: 'stages', 'data-field': 'maps' });
const mapReadout = h('p', { class: 'readout', 'data-field': 'map-readout' });

root.classList.add('dashboard', 'inspector-view');
root.replaceChildren(
  h('header', {}, h('div', { class: 'logo' }), h('div', {}, title, lead)),
  h('div', { class: 'actions' }, dashboardButton, trustButton),
  problem,
  h('section', { class: 'card' }, h('h2', {}, 'Filters', h('label', { class: 'control' }, 'Zoom ', zoom), rgbBox, h('label', { class: 'control' }, compareSelect)), comparisonLine, filterNote, filters, readout),
  h('section', { class: 'card layer' }, h('h2', {}, 'Feature maps', h('span', { class: 'control' }, runButton, fileButton)), busy, maps, mapReadout),
  h('section', { class: 'card layer' }, h('h2', {}, 'Top-activating patches', h('span', { class: 'control' }, sampleSelect, patchesButton)), patchesBusy, patchesProgress, patches),
);
root.setAttribute('aria-busy', 'false');

let layer: LayerView | undefined;

zoom.addEventListener('input', () => root.style.setProperty('--tile', `${zoom.value}px`));
root.style.setProperty('--tile', `${zoom.value}px`);
rgbBox.addEventListener('change', () => showFilters());
compareSelect.addEventListener('change', () => {
  const value = compareSelect.value;
  host.post(value === otherCheckpoint ? { type: 'pickComparison' } : { type: 'compareWith', checkpoint: value || null });
});
/** The menu's last entry: any checkpoint the host knows, picked in a quick pick. */
const otherCheckpoint = '\u0000other';
const request = (message: InspectorToHost & { type: 'featureMaps' | 'topPatches' }) => {
  pending = message.type;
  actionButtons.forEach((b) => (b.disabled = true));
  host.post(message);
};
const settle = () => {
  pending = undefined;
  actionButtons.forEach((b) => (b.disabled = layer?.activationsProblem !== null));
  patchesProgress.hidden = true;
};
runButton.addEventListener('click', () => request({ type: 'featureMaps', from: 'dataset' }));
fileButton.addEventListener('click', () => request({ type: 'featureMaps', from: 'workspace' }));
patchesButton.addEventListener('click', () => request({ type: 'topPatches', sample: Number(sampleSelect.value) }));

function receive(message: InspectorToWebview): void {
  switch (message.type) {
    case 'layer':
      layer = message;
      host.setState({ checkpoint: message.checkpoint, layer: message.layer, baseline: message.comparison?.checkpoint ?? null });
      showComparisonChoices(message);
      problem.hidden = true;
      maps.replaceChildren();
      patches.replaceChildren();
      busy.textContent = message.activationsProblem ?? 'An image through the trained model: the conv layer\'s output, after ReLU, and after the pooling that follows.';
      patchesBusy.textContent = message.activationsProblem ?? 'For each filter, the test-image patches it responds to most (its receptive field), strongest first.';
      settle();
      dashboardButton.hidden = message.runDir === null;
      trustButton.hidden = !message.trustNeeded;
      rgbBox.checked = message.shape[1] === 3;
      rgbBox.disabled = message.shape[1] !== 3;
      return showFilters();
    case 'featureMaps':
      settle();
      busy.textContent = '';
      return showMaps(message);
    case 'topPatches':
      settle();
      patchesBusy.textContent = `Each filter's strongest responses in ${message.sample.toLocaleString('en-US')} test images, with the image they are from; windows of ${message.shape.slice(1).join('×')} pixels, the filter's receptive field.`;
      return showPatches(message);
    case 'progress':
      patchesProgress.hidden = false;
      patchesProgress.value = message.total ? message.done / message.total : 0;
      patchesProgress.textContent = `${message.done} of ${message.total}`;
      return;
    case 'busy':
      (pending === 'topPatches' ? patchesBusy : busy).textContent = message.message;
      if (!message.message) settle();
      return;
    case 'problem':
      settle();
      busy.textContent = '';
      problem.textContent = message.message;
      problem.hidden = false;
      return;
  }
}

function showComparisonChoices(view: LayerView): void {
  const current = view.comparison?.checkpoint ?? '';
  const offered = view.comparable.map((c) => [c.path, c.label] as const);
  // A checkpoint picked from elsewhere is on the menu while it is shown.
  if (view.comparison && !offered.some(([path]) => path === current)) offered.push([current, view.comparison.label]);
  compareSelect.replaceChildren(
    h('option', { value: '' }, 'Compare with…'),
    ...offered.map(([path, label]) => h('option', { value: path }, label)),
    h('option', { value: otherCheckpoint }, 'Other checkpoint…'),
  );
  compareSelect.value = current;
  comparisonLine.hidden = !view.comparison && !view.comparisonProblem;
  comparisonLine.classList.toggle('problem', Boolean(view.comparisonProblem));
  const change = view.comparison?.change;
  comparisonLine.textContent = view.comparisonProblem ?? (view.comparison && change
    ? `Compared with ${view.comparison.label}: ‖B − A‖ ${number(change.l2)}${change.relative === null ? '' : `, ${(100 * change.relative).toFixed(1)} % of ‖A‖`}${change.cosine === null ? '' : `, cosine ${number(change.cosine)}`} (A: ${view.comparison.label}, B: this checkpoint).`
    : '');
}

function showFilters(): void {
  if (!layer) return;
  const shown = layer;
  const [out = 0, inputs = 0, kh = 0, kw = 0] = shown.shape;
  const after = floats(shown.weights);
  const before = shown.comparison ? floats(shown.comparison.weights) : undefined;
  const difference = before && after.map((v, i) => v - (before[i] ?? 0));
  title.textContent = `Layer ${shown.layer}`;
  lead.textContent = [`Conv2d, ${out} filters of ${inputs}×${kh}×${kw}`, `${shown.format} checkpoint ${shown.checkpoint}`, ...shown.notes].join(' · ');
  const size = kh * kw;
  const kernel = (weights: Float32Array, o: number, i: number): Plane => ({ width: kw, height: kh, data: weights.subarray((o * inputs + i) * size, (o * inputs + i + 1) * size) });
  // A and B on one scale, so that a weight that grew looks stronger; the difference on its own.
  const scale = Math.max(largest(after), largest(before));
  const differenceScale = largest(difference);
  const colour = rgbBox.checked && inputs === 3;
  const channels = colour ? 1 : Math.min(inputs, maxChannelsShown);
  const versions = before && difference ? [
    { name: 'A', weights: before, scale },
    { name: 'B', weights: after, scale },
    { name: 'B − A', weights: difference, scale: differenceScale },
  ] : [{ name: '', weights: after, scale }];
  filterNote.textContent = colour
    ? 'Each filter\'s three kernels as one colour tile, scaled from its lowest weight (black) to its highest (full colour), as the course draws first-layer filters.'
    : `Rows are filters, columns input channels${inputs > channels ? ` (the first ${channels} of ${inputs})` : ''}; orange weights are positive, blue negative, one scale (±${number(scale)}) for the layer${difference ? `, its own (±${number(differenceScale)}) for the differences` : ''}.`;
  const tiles = (version: (typeof versions)[number], o: number) =>
    Array.from({ length: channels }, (_, i) => {
      const canvas = h('canvas', { 'data-filter': String(o), 'data-channel': String(i), ...(version.name ? { 'data-version': version.name } : {}) });
      if (colour) {
        const planes = [0, 1, 2].map((c) => kernel(version.weights, o, c));
        let [low, high] = [Infinity, -Infinity];
        for (const p of planes) for (const v of p.data) [low, high] = [Math.min(low, v), Math.max(high, v)];
        const span = high - low || 1;
        draw(canvas, planes.map((p) => ({ ...p, data: p.data.map((v) => (255 * (v - low)) / span) })), 'bytes');
      } else {
        draw(canvas, [kernel(version.weights, o, i)], 'signed', version.scale);
      }
      canvas.addEventListener('mousemove', (event) => {
        const rect = canvas.getBoundingClientRect();
        const x = Math.min(kw - 1, Math.floor(((event.clientX - rect.left) / rect.width) * kw));
        const y = Math.min(kh - 1, Math.floor(((event.clientY - rect.top) / rect.height) * kh));
        const values = (c: number) => versions.map((v) => `${v.name ? `${v.name} ` : ''}${number(kernel(v.weights, o, c).data[y * kw + x] ?? 0)}`).join(', ');
        readout.textContent = colour
          ? `filter ${o} (row ${y}, column ${x}): ${['R', 'G', 'B'].map((name, c) => `${name} ${values(c)}`).join(' · ')}`
          : `filter ${o}, channel ${i} (row ${y}, column ${x}): ${values(i)}`;
      });
      return canvas;
    });
  filters.replaceChildren(
    ...Array.from({ length: out }, (_, o) => {
      if (!before || !difference) return h('figure', { class: 'filter' }, h('div', { class: 'kernels' }, ...tiles(versions[0] as (typeof versions)[number], o)), h('figcaption', {}, String(o)));
      // How far this filter moved, against its size in A.
      const filterOf = (weights: Float32Array) => weights.subarray(o * inputs * size, (o + 1) * inputs * size);
      const { relative } = changeBetween(filterOf(before), filterOf(after));
      return h(
        'figure',
        { class: 'filter' },
        h('div', { class: 'versions' }, ...versions.map((version) => h('div', {}, h('div', { class: 'kernels' }, ...tiles(version, o)), h('small', {}, version.name)))),
        h('figcaption', { 'data-change': String(relative ?? 0) }, relative === null ? String(o) : `${o} · changed ${(100 * relative).toFixed(0)} %`),
      );
    }),
  );
}

function showMaps(view: FeatureMaps): void {
  const [channels = 1, height = 0, width = 0] = view.image.shape;
  const input = h('canvas', { class: 'input-image' });
  draw(input, imagePlanes(bytesOf(view.image.pixels), view.image.shape), 'bytes');
  maps.replaceChildren(
    h('figure', { class: 'input' }, input, h('figcaption', {}, `${view.image.name} · ${channels}×${height}×${width}`)),
    ...view.stages.map((stage) => {
      const [count = 0, mh = 0, mw = 0] = stage.shape;
      const data = floats(stage.data);
      const planes = Array.from({ length: count }, (_, c): Plane => ({ width: mw, height: mh, data: data.subarray(c * mh * mw, (c + 1) * mh * mw) }));
      const scale = largest(data);
      return h(
        'section',
        { class: 'stage', 'data-stage': stage.name },
        h('h3', {}, `${stage.name} · ${stage.shape.join('×')}`),
        h(
          'div',
          { class: 'maps' },
          ...planes.map((p, c) => {
            const canvas = h('canvas', { 'data-map': String(c) });
            draw(canvas, [p], 'signed', scale);
            canvas.addEventListener('mousemove', (event) => {
              const rect = canvas.getBoundingClientRect();
              const x = Math.min(mw - 1, Math.floor(((event.clientX - rect.left) / rect.width) * mw));
              const y = Math.min(mh - 1, Math.floor(((event.clientY - rect.top) / rect.height) * mh));
              mapReadout.textContent = `${stage.name}, map ${c} (${x}, ${y}): ${number(p.data[y * mw + x] ?? 0)}`;
            });
            return canvas;
          }),
        ),
      );
    }),
  );
}

function showPatches(view: TopPatches): void {
  const weights = layer ? floats(layer.weights) : new Float32Array();
  const [, inputs = 0, kh = 0, kw = 0] = layer?.shape ?? [];
  patches.replaceChildren(
    ...view.filters.map((found, o) => {
      const filter = h('canvas', { class: 'kernel-tile' });
      draw(filter, [{ width: kw, height: kh, data: weights.subarray(o * inputs * kh * kw, (o * inputs + 1) * kh * kw) }], 'signed');
      return h(
        'div',
        { class: 'patch-row', 'data-filter': String(o) },
        h('figure', {}, filter, h('figcaption', {}, `filter ${o}`)),
        ...found.map((patch) => {
          const canvas = h('canvas', { title: `test #${patch.index} (${patch.label}): ${patch.value.toFixed(3)}` });
          draw(canvas, imagePlanes(bytesOf(patch.pixels), view.shape), 'bytes');
          return h('figure', {}, canvas, h('figcaption', {}, patch.label));
        }),
      );
    }),
  );
}
