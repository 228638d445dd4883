// Whether a file's classifiers fit the torchvision dataset it loads: the first layer against the
// images, one score per class out. The trainer checks the same before its first step
// (src/trainer/cnn_lab_engine/data_fit.py); this says it while the file is written.
import type { AnalysisDiagnostic, LayerReport, ModelReport, QuickFix } from '../report';
import type { Node } from '../syntax';
import { layerArgument } from '../torchLayers';
import type { PythonFile } from './program';

interface KnownDataset {
  label: string;
  /** Undefined where the split decides (EMNIST). */
  classes?: number;
  image: [channels: number, height: number, width: number];
}

/** torchvision.datasets' classes whose images and labels are fixed by the class alone. */
const knownDatasets = new Map<string, KnownDataset>([
  ['MNIST', { label: 'MNIST', classes: 10, image: [1, 28, 28] }],
  ['FashionMNIST', { label: 'Fashion-MNIST', classes: 10, image: [1, 28, 28] }],
  ['KMNIST', { label: 'KMNIST', classes: 10, image: [1, 28, 28] }],
  ['QMNIST', { label: 'QMNIST', classes: 10, image: [1, 28, 28] }],
  ['EMNIST', { label: 'EMNIST', image: [1, 28, 28] }],
  ['CIFAR10', { label: 'CIFAR-10', classes: 10, image: [3, 32, 32] }],
  ['CIFAR100', { label: 'CIFAR-100', classes: 100, image: [3, 32, 32] }],
  ['SVHN', { label: 'SVHN', classes: 10, image: [3, 32, 32] }],
  ['STL10', { label: 'STL-10', classes: 10, image: [3, 96, 96] }],
]);

/** Any of their names, in one pass over a file's text (nine `includes` took eight times as long on 2,000 lines). */
const datasetNames = new RegExp([...knownDatasets.keys()].join('|'));

/** Transforms that keep an image's channels, and of those the ones that keep its size too. */
const keepChannels = new Set([
  'Compose', 'ToTensor', 'PILToTensor', 'ConvertImageDtype', 'ToDtype', 'ToImage', 'Normalize', 'RandomHorizontalFlip', 'RandomVerticalFlip',
  'RandomRotation', 'RandomAffine', 'RandomPerspective', 'ColorJitter', 'RandomErasing', 'GaussianBlur', 'RandomGrayscale', 'AutoAugment',
  'RandAugment', 'TrivialAugmentWide', 'AugMix', 'RandomInvert', 'RandomPosterize', 'RandomSolarize', 'RandomAdjustSharpness',
  'RandomAutocontrast', 'RandomEqualize', 'RandomApply', 'RandomChoice', 'RandomOrder', 'Resize', 'RandomResizedCrop', 'CenterCrop',
  'RandomCrop', 'Pad',
]);
const changeSize = new Set(['Resize', 'RandomResizedCrop', 'CenterCrop', 'RandomCrop', 'Pad']);
/** Losses that read one score per class: a file without one trains no classifier (an autoencoder, a GAN) and is not checked. */
const classificationLosses = new Set(['torch.nn.CrossEntropyLoss', 'torch.nn.NLLLoss', 'torch.nn.functional.cross_entropy', 'torch.nn.functional.nll_loss']);

/** What the file's dataset calls say about its images: one dataset class for all of them, else nothing. */
interface FileData {
  dataset: KnownDataset;
  /** The first call that loads it. */
  site: Node;
  /** Whether every call's transform is known to keep the channels, and the size. */
  channelsKept: boolean;
  sizeKept: boolean;
}

/** The reports with a warning added where a classifier the file builds cannot take its dataset's images or labels. */
export function fitToData(file: PythonFile, reports: ModelReport[]): ModelReport[] {
  const root = file.root;
  // Most files load no dataset: the text is looked at before the tree is walked.
  if (!datasetNames.test(root.text)) return reports;
  const calls = root.descendantsOfType('call').filter((c): c is Node => c !== null);
  const data = fileData(file, calls);
  if (!data || !calls.some((c) => classificationLosses.has(file.qualified(calleeText(c))))) return reports;
  const called = new Set(calls.filter((c) => !insideClass(c)).map(calleeText));
  return reports.map((report) => {
    const checked = report.kind === 'instance' || report.kind === 'sequential' || called.has(report.name);
    const found = checked && report.complete !== false ? misfits(report, data, calls) : [];
    return found.length === 0 ? report : { ...report, diagnostics: [...report.diagnostics, ...found] };
  });
}

function fileData(file: PythonFile, calls: Node[]): FileData | undefined {
  let data: FileData | undefined;
  for (const call of calls) {
    const qualified = file.qualified(calleeText(call));
    const dataset = qualified.startsWith('torchvision.datasets.') ? qualified.slice('torchvision.datasets.'.length) : undefined;
    if (dataset === undefined) continue;
    const known = knownDatasets.get(dataset);
    // An ImageFolder, or two kinds of data: which one a model reads is not known.
    if (!known || (data && data.dataset !== known)) return undefined;
    const kept = transformKeeps(file, call, known);
    data = {
      dataset: known,
      site: data?.site ?? call,
      channelsKept: (data?.channelsKept ?? true) && kept.channels,
      sizeKept: (data?.sizeKept ?? true) && kept.size,
    };
  }
  return data;
}

/** Whether a dataset call's `transform=` keeps its images' channels and size: only transforms known to keep them are believed. */
function transformKeeps(file: PythonFile, call: Node, dataset: KnownDataset): { channels: boolean; size: boolean } {
  const argument = call
    .childForFieldName('arguments')
    ?.namedChildren.find((a) => a?.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'transform')
    ?.childForFieldName('value');
  if (!argument) return { channels: true, size: true };
  const expression = argument.type === 'identifier' ? assignedBefore(argument) : argument;
  if (!expression) return { channels: false, size: false };
  let channels = true;
  let size = true;
  for (const inner of [expression, ...expression.descendantsOfType('call')]) {
    if (!inner || inner.type !== 'call') continue;
    const name = file.qualified(calleeText(inner)).split('.').pop() ?? '';
    if (!keepChannels.has(name)) return { channels: false, size: false };
    if (changeSize.has(name) && !sameSize(name, inner, dataset)) size = false;
  }
  // Identifiers inside the transform (a list built elsewhere) could hold anything.
  if (expression.descendantsOfType('identifier').some((n) => n?.parent?.type !== 'attribute' && n?.parent?.type !== 'keyword_argument' && n?.parent?.type !== 'call')) channels = size = false;
  return { channels, size };
}

/** `RandomCrop(32, padding=4)` on 32×32 images keeps them 32×32. */
function sameSize(name: string, call: Node, dataset: KnownDataset): boolean {
  if (name !== 'RandomCrop' && name !== 'CenterCrop') return false;
  const first = call.childForFieldName('arguments')?.namedChildren[0];
  return first?.type === 'integer' && Number(first.text) === dataset.image[1] && dataset.image[1] === dataset.image[2];
}

/** The value of the last assignment to an identifier before it, in its function or at module level. */
function assignedBefore(identifier: Node): Node | undefined {
  for (let scope = identifier.parent; scope; scope = scope.parent) {
    if (scope.type !== 'block' && scope.type !== 'module') continue;
    let value: Node | undefined;
    for (const statement of scope.namedChildren) {
      if (!statement || statement.startIndex >= identifier.startIndex) break;
      const assignment = statement.type === 'expression_statement' ? statement.namedChildren[0] : undefined;
      if (assignment?.type === 'assignment' && assignment.childForFieldName('left')?.text === identifier.text) value = assignment.childForFieldName('right') ?? undefined;
    }
    if (value) return value;
  }
  return undefined;
}

function misfits(report: ModelReport, data: FileData, calls: Node[]): AnalysisDiagnostic[] {
  const output = report.output;
  // One row of class scores per image, more than one class: a classifier's output.
  if (!output || output.length !== 2 || typeof output[1] !== 'number' || output[1] < 2) return [];
  const scores = output[1];
  const { dataset } = data;
  const [channels, height, width] = dataset.image;
  // An image out (an autoencoder's flattened reconstruction) is no row of class scores.
  if (scores === channels * height * width) return [];
  const where = dataset.label;
  const images = `${dataset.label}'s images`;
  const related = [{ range: data.site.range, message: `${dataset.label}: ${channels}×${height}×${width} images${dataset.classes ? `, ${dataset.classes} classes` : ''}` }];
  const found: AnalysisDiagnostic[] = [];
  const first = report.layers.find((l) => l.spec?.kind === 'conv' || l.spec?.kind === 'linear');
  const spec = first?.spec;
  if (first && spec?.kind === 'conv' && !spec.transposed && data.channelsKept && spec.inChannels !== channels) {
    const kernel = new Set(spec.kernel).size === 1 ? String(spec.kernel[0]) : `(${spec.kernel.join(', ')})`;
    found.push({
      range: first.range,
      severity: 'warning',
      related,
      message: `${first.name}, the first convolution, takes ${plural(spec.inChannels, 'channel')} but ${images} have ${channels}: make it nn.Conv2d(${channels}, ${spec.outChannels}, ${kernel}), or load a ${spec.inChannels}-channel dataset`,
      ...withFix(first, 'in_channels', channels, calls),
    });
  }
  const pixels = channels * height * width;
  if (first && spec?.kind === 'linear' && data.channelsKept && data.sizeKept && first.in?.length === 2 && spec.inFeatures !== pixels) {
    found.push({
      range: first.range,
      severity: 'warning',
      related,
      message: `${first.name}, the first layer, takes ${spec.inFeatures.toLocaleString('en-US')} values but ${images} are ${channels}×${height}×${width} = ${pixels.toLocaleString('en-US')} once flattened: make it nn.Linear(${pixels}, ${spec.outFeatures})`,
      ...withFix(first, 'in_features', pixels, calls),
    });
  }
  if (dataset.classes !== undefined && scores !== dataset.classes) {
    const last = [...report.layers].reverse().find((l) => l.spec?.kind === 'linear' && l.spec.outFeatures === scores);
    const change = last?.spec?.kind === 'linear' ? `: make ${last.name} nn.Linear(${last.spec.inFeatures}, ${dataset.classes})` : '';
    found.push({
      range: last?.range ?? report.range,
      severity: 'warning',
      related,
      message:
        scores > dataset.classes
          ? `${report.name} gives ${scores} scores per image but ${where} has ${dataset.classes} classes, so ${scores - dataset.classes} of its outputs stand for no label${change}`
          : `${report.name} gives ${scores} scores per image but ${where} has ${dataset.classes} classes, so labels ${scores} to ${dataset.classes - 1} have no score and the loss fails on them${change}`,
      ...(last ? withFix(last, 'out_features', dataset.classes, calls) : {}),
    });
  }
  return found;
}

/** A quick fix when the layer's argument is written as a number in its construction. */
function withFix(layer: LayerReport, argument: string, value: number, calls: Node[]): { fix?: QuickFix } {
  const construction = calls.find((c) => sameRange(c.range, layer.range));
  const node = construction ? layerArgument(construction, layer.type, argument) : undefined;
  return node?.type === 'integer' ? { fix: { title: `Change ${argument} to ${value}`, range: node.range, newText: String(value) } } : {};
}

function sameRange(a: LayerReport['range'], b: LayerReport['range']): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

function calleeText(call: Node): string {
  return call.childForFieldName('function')?.text ?? '';
}

function insideClass(node: Node): boolean {
  for (let up = node.parent; up; up = up.parent) if (up.type === 'class_definition') return true;
  return false;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
