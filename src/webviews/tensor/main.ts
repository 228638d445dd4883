// View Tensor: a paused program's tensor as pictures. Colour for a photo (H×W×3, 3×H×W), otherwise
// the last two axes as maps in the inspector's blue-and-orange, one per index of the axes before
// them; a histogram of the finite values, the statistics, and the value under the pointer. Pinned,
// the host reads the expression again at each stop.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { Plane } from '../../core/filters/convolve';
import { tensorHistogram, tensorPicture } from '../../core/debug/tensorPicture';
import { type TensorToHost, tensorToWebview, type TensorToWebview } from '../../core/protocol/tensor';
import { h } from '../shared/dom';
import { connectToHost } from '../shared/host';
import { bytesOf } from '../shared/pixels';
import { draw, signedScale } from '../shared/planes';

/** Maps drawn at most: the rest are counted, not drawn. */
const mapLimit = 64;
const root = document.getElementById('root') as HTMLElement;
const host = connectToHost<TensorToWebview, TensorToHost>(tensorToWebview, (message) => render(message));
const pin = h('vscode-checkbox', { label: 'Pin: read again at each stop', 'data-field': 'pin' });
let shownExpression = '';
pin.addEventListener('change', () => host.post({ type: 'pin', expression: shownExpression, pinned: pin.checked }));
root.classList.add('tensor');
root.setAttribute('aria-busy', 'true');

const number = (v: number | null | undefined) => (v === null || v === undefined ? '—' : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(Number(v.toFixed(4))));

function render(message: TensorToWebview): void {
  root.setAttribute('aria-busy', 'false');
  const title = h('h1', {}, message.expression);
  shownExpression = message.expression;
  pin.checked = message.pinned;
  const actions = h('div', { class: 'actions' }, pin);
  if (message.type === 'problem') {
    root.replaceChildren(h('header', {}, h('div', { class: 'logo' }), title), actions, h('p', { class: 'error', 'data-field': 'problem' }, message.message));
    return;
  }
  const { answer } = message;
  if (answer.kind === 'other') {
    root.replaceChildren(h('header', {}, h('div', { class: 'logo' }), title), actions, h('p', { 'data-field': 'problem' }, `${answer.type} is not a tensor, an array or an image: nothing to draw.`));
    return;
  }
  const summary = `${answer.kind === 'torch' ? 'tensor' : answer.kind === 'numpy' ? 'ndarray' : 'PIL image'} ${answer.shape.join('×') || 'scalar'} · ${answer.dtype} · ${answer.device}`;
  const readout = h('p', { class: 'readout', 'data-field': 'readout' }, 'Point at a pixel for its value.');
  const parts: HTMLElement[] = [h('header', {}, h('div', { class: 'logo' }), h('div', {}, title, h('p', { 'data-field': 'summary' }, summary))), actions];
  if (answer.note) parts.push(h('p', { class: 'note', 'data-field': 'note' }, answer.note));
  const stats = answer.stats;
  if (stats) parts.push(h('dl', { class: 'facts', 'data-field': 'stats' }, ...[['min', stats.min], ['max', stats.max], ['mean', stats.mean], ['std', stats.std]].flatMap(([label, v]) => [h('dt', {}, String(label)), h('dd', {}, number(v as number | null))]), h('dt', {}, 'NaN · Inf'), h('dd', {}, `${stats.nan} · ${stats.inf}`)));
  const floats = answer.values ? new Float32Array(bytesOf(answer.values).buffer) : null;
  const shape = answer.sampledShape ?? [];
  if (floats && floats.length) {
    const picture = tensorPicture(shape);
    const size = picture.height * picture.width;
    const planes: Plane[] =
      picture.layout === 'rgb'
        ? [0, 1, 2].map((c) => ({ width: picture.width, height: picture.height, data: Float32Array.from({ length: size }, (_, p) => floats[picture.offset(0, Math.floor(p / picture.width), p % picture.width) + c * picture.channel] ?? 0) }))
        : Array.from({ length: Math.min(picture.maps, mapLimit) }, (_, m) => ({ width: picture.width, height: picture.height, data: floats.subarray(m * size, (m + 1) * size) }));
    const scale = signedScale(planes);
    // A photo in bytes or in [0, 1] is drawn as it would show; anything else around zero, as the inspector does.
    const photo = picture.layout === 'rgb' && (stats?.min ?? -1) >= 0 && (stats?.max ?? 256) <= 255;
    const unit = photo && (stats?.max ?? 0) <= 1 ? 255 : 1;
    const maps = (picture.layout === 'rgb' ? [planes] : planes.map((plane) => [plane])).map((group, m) => {
      const canvas = h('canvas', { 'data-map': String(m), role: 'img', 'aria-label': picture.layout === 'rgb' ? 'the image' : `map ${m}` });
      draw(canvas, photo ? group.map((p) => ({ ...p, data: p.data.map((v) => v * unit) })) : group, photo ? 'bytes' : 'signed', scale);
      canvas.addEventListener('mousemove', (event) => {
        const x = Math.min(picture.width - 1, Math.floor((event.offsetX / canvas.clientWidth) * picture.width));
        const y = Math.min(picture.height - 1, Math.floor((event.offsetY / canvas.clientHeight) * picture.height));
        const at = picture.offset(m, y, x);
        const values = picture.layout === 'rgb' ? [0, 1, 2].map((c) => number(floats[at + c * picture.channel])) : [number(floats[at])];
        readout.textContent = `${picture.layout === 'rgb' ? '' : `map ${m}, `}row ${y * (answer.step ?? 1)}, column ${x * (answer.step ?? 1)}: ${values.join(', ')}`;
      });
      return h('figure', {}, canvas, h('figcaption', {}, picture.layout === 'rgb' ? `${picture.height}×${picture.width}, colour` : `map ${m}`));
    });
    const more = picture.maps > mapLimit ? [h('p', { class: 'note' }, `${mapLimit} of ${picture.maps} maps drawn.`)] : [];
    parts.push(h('section', { class: 'card' }, h('h2', {}, picture.layout === 'rgb' ? 'Image' : `Maps (${picture.maps}, ${picture.height}×${picture.width})`), h('div', { class: 'maps', 'data-field': 'maps' }, ...maps), ...more, readout));
    const histogram = tensorHistogram(floats);
    if (histogram) {
      const peak = Math.max(...histogram.counts, 1);
      const bars = histogram.counts.map((n, i) => {
        const bar = h('div', { class: 'bar', title: `${number(histogram.min + ((histogram.max - histogram.min) * i) / histogram.counts.length)}: ${n}` });
        bar.style.height = `${(100 * n) / peak}%`;
        return bar;
      });
      parts.push(h('section', { class: 'card' }, h('h2', {}, 'Histogram'), h('div', { class: 'histogram', 'data-field': 'histogram' }, ...bars), h('p', {}, `${number(histogram.min)} … ${number(histogram.max)}`)));
    }
  }
  root.replaceChildren(...parts);
}
