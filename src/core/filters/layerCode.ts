// The playground's "conv layer" written as PyTorch: fixed weights in an nn.Conv2d, the edge handling
// as an explicit padding layer (so even kernels are anchored as OpenCV anchors them, which
// padding='same' does not), then ReLU and pooling. Running it gives the playground's numbers.
import type { PlaygroundLayer } from '../protocol/playground';

export interface CodeImage {
  /** The image file the playground showed, or null to leave a stand-in of its size. */
  path: string | null;
  width: number;
  height: number;
}

const literal = (value: number) => (Number.isInteger(value) ? value.toFixed(1) : String(value));

export function layerCode(layer: PlaygroundLayer, image: CodeImage): string {
  const first = layer.filters[0];
  if (!first) throw new Error('The layer has no filters: add one first.');
  const kh = first.kernel.length;
  const kw = first.kernel[0]?.length ?? 0;
  if (layer.filters.some((f) => f.kernel.length !== kh || f.kernel.some((row) => row.length !== kw))) {
    throw new Error(`The filters have different sizes: one nn.Conv2d needs them all ${kh}×${kw}.`);
  }
  const depth = layer.filters.length;
  const colour = layer.channels === 'rgb';
  const padding = [Math.floor(kw / 2), kw - 1 - Math.floor(kw / 2), Math.floor(kh / 2), kh - 1 - Math.floor(kh / 2)].join(', ');
  const names = layer.filters.map((f) => f.name).join(', ');
  const steps = [
    `${depth} filter${depth === 1 ? '' : 's'} (${names}), ${kh}×${kw}, over ${colour ? 'R, G and B apart' : 'a grey image'}`,
    { extend: 'edges extended', zero: 'zero padding', crop: 'cropped (the output shrinks)' }[layer.edge],
    ...(layer.relu ? ['ReLU'] : []),
    ...(layer.pool ? [`${layer.pool.kind} pooling ${layer.pool.size}×${layer.pool.size}, stride ${layer.pool.stride}`] : []),
  ];
  const kernels = layer.filters.map(
    (f, n) => `    [${f.kernel.map((row) => `[${row.map(literal).join(', ')}]`).join(`,\n     `)}]${n < depth - 1 ? ',' : ''}  # ${f.name}`,
  );
  const modules = [
    ...(layer.edge === 'extend' ? [`    nn.ReplicationPad2d((${padding})),  # extend: border pixels repeat outwards (left, right, top, bottom)`] : []),
    ...(layer.edge === 'zero' ? [`    nn.ZeroPad2d((${padding})),  # zeros outside (left, right, top, bottom)`] : []),
    '    conv,',
    ...(layer.relu ? ['    nn.ReLU(),'] : []),
    ...(layer.pool ? [`    nn.${layer.pool.kind === 'max' ? 'MaxPool2d' : 'AvgPool2d'}(kernel_size=${layer.pool.size}, stride=${layer.pool.stride}),`] : []),
  ];
  const conv = colour
    ? [
        `# groups=3: each filter runs over R, G and B apart; output channels are R's ${depth}, then G's, then B's.`,
        `conv = nn.Conv2d(3, ${3 * depth}, kernel_size=(${kh}, ${kw}), groups=3, bias=False)`,
        'with torch.no_grad():',
        '    conv.weight.copy_(weights.repeat(3, 1, 1).unsqueeze(1))',
      ]
    : [`conv = nn.Conv2d(1, ${depth}, kernel_size=(${kh}, ${kw}), bias=False)`, 'with torch.no_grad():', '    conv.weight.copy_(weights.unsqueeze(1))'];
  const input = image.path
    ? [
        `rgb = read_image(${JSON.stringify(image.path)}, ImageReadMode.RGB).float()`,
        colour
          ? 'image = rgb.unsqueeze(0)  # 1 × 3 × H × W, values 0–255'
          : '# Grey as cv2.cvtColor computes it, values 0–255: 1 × 1 × H × W.\nimage = (rgb * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0, keepdim=True).round().unsqueeze(0)',
      ]
    : [`image = torch.rand(1, ${colour ? 3 : 1}, ${image.height}, ${image.width}) * 255  # your image here: values 0–255`];
  return [
    '# A fixed-filter conv layer from the CNN Lab filter playground:',
    `# ${steps.join('; ')}.`,
    'import torch',
    'from torch import nn',
    ...(image.path ? ['from torchvision.io import ImageReadMode, read_image'] : []),
    '',
    `weights = torch.tensor([  # filters × ${kh} × ${kw}`,
    ...kernels,
    '])',
    ...conv,
    '',
    'layer = nn.Sequential(',
    ...modules,
    ')',
    '',
    ...input,
    'with torch.no_grad():',
    '    out = layer(image)',
    'print(out.shape)',
    '',
  ].join('\n');
}
