// View Tensor's probe, run as the debugger runs it: the expression evaluated in a paused function's
// frame (eval with the frame's globals and locals, as debugpy's evaluate does), its repr parsed back.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tensorHistogram, tensorPicture } from '../../src/core/debug/tensorPicture';
import { parseTensorProbe, tensorProbeExpression, tensorSummary, type TensorView } from '../../src/core/debug/tensorProbe';

const repo = resolve(__dirname, '../..');
const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const probeSource = readFileSync(join(repo, 'src/trainer/tensor_probe.py'), 'utf8');

/**
 * Runs `setup` (Python defining `x` from torch, numpy and PIL), pauses in forward(x) and evaluates the
 * probe of `value` there; prints the result's repr and whether the program's state moved.
 */
function probeIn(setup: string, value = 'x', limit?: number): { answer: ReturnType<typeof parseTensorProbe>; untouched: boolean } {
  const harness = `
import sys, numpy as np, torch
from PIL import Image
${setup}
def forward(x):
    frame = sys._getframe()
    return eval(sys.argv[1], frame.f_globals, frame.f_locals)
names, modules = set(globals()), set(sys.modules)
result = forward(x)
print(repr(result))
print(set(globals()) - names == {"names", "modules", "result"} and sorted(set(sys.modules) - modules))
`;
  const [result = '', state = ''] = execFileSync(python, ['-c', harness, tensorProbeExpression(probeSource, value, limit)], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n');
  // The probe may load the standard library's json and base64 (PyTorch has done so already): nothing else.
  return { answer: parseTensorProbe(result), untouched: state === '[]' };
}

const view = (answer: ReturnType<typeof parseTensorProbe>): TensorView => {
  assert.ok('floats' in answer, JSON.stringify(answer).slice(0, 300));
  return answer;
};

describe('View Tensor\'s probe, evaluated in a paused frame', () => {
  it('reads a tensor\'s shape, dtype, device, statistics and every value, leaving the program as it was', () => {
    const { answer, untouched } = probeIn('x = torch.arange(24.0).reshape(2, 3, 4) - 5');
    const tensor = view(answer);
    assert.deepEqual([tensor.kind, tensor.shape, tensor.dtype, tensor.device, tensor.step, tensor.note], ['torch', [2, 3, 4], 'float32', 'cpu', 1, null]);
    assert.deepEqual([...(tensor.floats ?? [])], Array.from({ length: 24 }, (_, i) => i - 5));
    assert.deepEqual([tensor.stats?.min, tensor.stats?.max, tensor.stats?.mean], [-5, 18, 6.5]);
    assert.ok(untouched, 'no global and no module added');
  });

  it('counts NaN and Inf apart and gives the statistics of the finite values', () => {
    const tensor = view(probeIn('x = torch.tensor([1.0, float("nan"), float("inf"), -3.0, float("-inf")])').answer);
    assert.deepEqual([tensor.stats?.nan, tensor.stats?.inf, tensor.stats?.min, tensor.stats?.max], [1, 2, -3, 1]);
    assert.ok(Number.isNaN(tensor.floats?.[1]));
  });

  it('samples a 4 GB tensor with a stride, saying so, without copying it', () => {
    // 2**30 float32 values that take 4 bytes of memory: expand shares one element.
    const tensor = view(probeIn('x = torch.zeros(1).expand(2 ** 30)', 'x', 1 << 18).answer);
    assert.deepEqual(tensor.shape, [2 ** 30]);
    assert.ok((tensor.floats?.length ?? Infinity) <= 1 << 18 && (tensor.step ?? 0) > 1);
    assert.match(tensor.note ?? '', /^1,073,741,824 values: every \d+th along each axis is shown \([\d,]+ of them\), and the statistics are of those$/);
  });

  it('reads numpy arrays and PIL images, and names any other object by its type, whatever its repr says', () => {
    const array = view(probeIn('x = np.arange(6, dtype=np.int16).reshape(2, 3)').answer);
    assert.deepEqual([array.kind, array.shape, array.dtype, [...(array.floats ?? [])]], ['numpy', [2, 3], 'int16', [0, 1, 2, 3, 4, 5]]);
    const image = view(probeIn('x = Image.new("RGB", (4, 2), (255, 0, 10))').answer);
    assert.deepEqual([image.kind, image.shape, image.dtype, [...(image.floats ?? [])].slice(0, 3)], ['pil', [2, 4, 3], 'uint8 (RGB)', [255, 0, 10]]);
    const liar = probeIn('class Liar:\n    def __repr__(self):\n        return "tensor([1., 2.])"\nx = Liar()').answer;
    assert.deepEqual(liar, { kind: 'other', type: '__main__.Liar' });
    const meta = view(probeIn('x = torch.empty(3, 4, device="meta")').answer);
    assert.deepEqual([meta.shape, meta.note, meta.floats], [[3, 4], 'a meta tensor holds no values', null]);
  });

  it('gives the hover its statistics without the values, in one line', () => {
    const { answer } = probeIn('x = torch.tensor([[1.5, -2.0], [float("nan"), 4.0]])', 'x');
    assert.ok('floats' in answer);
    const statsOnly = execFileSync(python, ['-c', `import sys, torch\nx = torch.tensor([[1.5, -2.0], [float("nan"), 4.0]])\nprint(repr(eval(sys.argv[1])))`, tensorProbeExpression(probeSource, 'x', 65_536, false)], { encoding: 'utf8' }).trim();
    const parsed = parseTensorProbe(statsOnly);
    assert.ok('floats' in parsed && parsed.floats === null);
    assert.equal(tensorSummary(parsed as TensorView), 'tensor 2×2 · float32 · cpu · min -2 · max 4 · 1 NaN, 0 Inf');
  });

  it('refuses an answer that does not fit: wrong sizes, unknown kinds, not JSON', () => {
    assert.match(JSON.stringify(parseTensorProbe('\'{"kind": "torch", "shape": [2], "dtype": "float32", "device": "cpu", "note": null, "step": 1, "sampledShape": [2], "values": "AAAA"}\'')), /do not fill the sampled shape \[2\]/);
    assert.match(JSON.stringify(parseTensorProbe('{"kind": "virus"}')), /does not fit/);
    assert.match(JSON.stringify(parseTensorProbe('<built-in method>')), /not the probe's/);
  });

  it('draws a sampled tensor as the course does: photos in colour, feature maps as grey maps per channel', () => {
    const nchw = tensorPicture([2, 4, 5, 6]);
    assert.deepEqual([nchw.layout, nchw.maps, nchw.height, nchw.width, nchw.offset(5, 1, 2)], ['maps', 8, 5, 6, (5 * 5 + 1) * 6 + 2]);
    const chw = tensorPicture([3, 8, 8]);
    assert.deepEqual([chw.layout, chw.maps, chw.channel, chw.offset(0, 2, 3)], ['rgb', 1, 64, 19]);
    const hwc = tensorPicture([8, 10, 3]);
    assert.deepEqual([hwc.layout, hwc.height, hwc.width, hwc.channel, hwc.offset(0, 1, 2)], ['rgb', 8, 10, 1, 36]);
    assert.deepEqual([tensorPicture([7]).height, tensorPicture([7]).width, tensorPicture([]).maps], [1, 7, 1]);
  });

  it('bins the finite values between their least and greatest, leaving NaN and Inf out', () => {
    assert.deepEqual(tensorHistogram(Float32Array.of(0, 1, 2, 3, Number.NaN, Infinity), 3), { counts: [1, 1, 2], min: 0, max: 3 });
    assert.equal(tensorHistogram(Float32Array.of(Number.NaN)), null);
    assert.deepEqual(tensorHistogram(Float32Array.of(5, 5), 2)?.counts, [2, 0]);
  });
});
