// What the analysis says about a file: one report per model, ready for CodeLens, hovers,
// diagnostics, the summary and the CLI.
import type { LayerSpec } from './layers';
import type { Shape } from './shape';
import type { TfjsLayerSpec } from './tfjsLayers';

/** Zero-based line and UTF-16 column, as VS Code counts them. */
export interface Position {
  readonly line: number;
  readonly character: number;
}

export interface SourceRange {
  readonly start: Position;
  readonly end: Position;
}

export interface QuickFix {
  title: string;
  range: SourceRange;
  newText: string;
}

export interface AnalysisDiagnostic {
  range: SourceRange;
  message: string;
  severity: 'error' | 'warning' | 'information';
  fix?: QuickFix;
  /** Other places the message is about (the dataset a layer does not fit), shown with it. */
  related?: { range: SourceRange; message: string }[];
}

/** Something the static analysis could not follow: the numbers it touches are not known. */
export interface Incompleteness {
  /** Where it was lost: in the file analysed (a call that led into another file names that file in the reason). */
  range: SourceRange;
  reason: string;
  /** In a notebook cell's view: lost in another cell (`range` then says which), so no hover of this cell shows it. */
  elsewhere?: true;
}

/** One entry of a model's state_dict: its key and shape (null where the analysis does not know it). */
export interface StateDictEntry {
  key: string;
  /** Shared with the layer's spec and the model's other copies of it: never changed. */
  shape: readonly number[] | null;
  /** load_state_dict fills it in when a checkpoint lacks it (BatchNorm's num_batches_tracked, which checkpoints older than its state version 2 lack). */
  optional?: true;
}

/** Each reason once per line: a block built many times loses track at the same place each time. */
export function dedupeIncompleteness(found: readonly Incompleteness[]): Incompleteness[] {
  const seen = new Set<string>();
  return found.filter((f) => {
    const key = `${f.range.start.line}:${f.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface LayerReport {
  /** The qualified name PyTorch's named_modules() gives it: "conv1", "features.0". */
  name: string;
  type: string;
  /** Where the layer is constructed. */
  range: SourceRange;
  in: Shape | null;
  out: Shape | null;
  params: number;
  /** A PyTorch layer's arguments, or a TF.js layer's config, for the hover's arithmetic. */
  spec?: LayerSpec;
  tfjs?: TfjsLayerSpec;
  /** Why a shape is unknown, or that the layer is never called. */
  note?: string;
  /** What is wrong with what the layer receives (also a diagnostic). */
  error?: string;
  /** Multiply-accumulates of one forward pass at the model's input (bias left out); null when a shape it needs is unknown. */
  macs?: number | null;
  /** Bytes of the layer's output in float32, the activation memory it adds to the forward pass. */
  outputBytes?: number | null;
  /** For convolutions and pools: the input pixels one output unit sees, and the input-pixel step between neighbouring units, per spatial axis. */
  receptiveField?: { size: number[]; jump: number[] };
}

export interface ModelReport {
  name: string;
  /**
   * A PyTorch nn.Module subclass, a top-level `name = nn.Sequential(...)`, a module-level function
   * that returns a model (a factory), a module-level `model = Net(...)` (an instance), or a TF.js model.
   */
  kind: 'class' | 'sequential' | 'factory' | 'instance' | 'tfjs';
  /** For PyTorch: the Python expression that builds the model in the file's namespace (`Net()`, `resnet18()`, `model`). */
  build?: string;
  /** The class name, or the variable a top-level nn.Sequential is assigned to. */
  range: SourceRange;
  /** The whole class, or the whole assignment. */
  extent: SourceRange;
  /** In a notebook cell's view of a model another cell defines: `range` and `extent` are not in this cell, its layers and diagnostics are. */
  definedElsewhere?: true;
  /** The input, batch first; a TF.js dimension nothing tells is null. */
  input: readonly (number | null)[];
  inputSource: 'given' | 'annotation' | 'first layer' | 'smallest picture it runs on' | 'default';
  output: Shape | null;
  /** A TF.js model with several outputs: each, `output` being the first. */
  outputs?: Shape[];
  outputNote?: string;
  totalParams: number;
  trainableParams: number;
  /** The sum of the layers' multiply-accumulates, null when one of them is unknown. */
  totalMacs?: number | null;
  /** Bytes of every layer's output in float32: the forward pass's activation memory. */
  activationBytes?: number | null;
  /** The shapes come from PyTorch running the model (exact mode), not from the static analysis. */
  exact?: boolean;
  /** In exact mode, the top-level statements PyTorch's helper did not run (it runs only what builds the model), with their 1-based lines (in their cell, for a notebook). */
  exactLeftOut?: { line: number; text: string; cell?: number }[];
  /**
   * Whether every number of the report is known. False when the analysis lost track of something
   * (`incomplete` says what and where): shapes may then be `?` and the totals are lower bounds.
   * Undefined where the analysis does not tell yet (TF.js).
   */
  complete?: boolean;
  incomplete?: Incompleteness[];
  /** False when a parameter the model may have was not counted: totalParams is then at least that many. */
  paramsKnown?: boolean;
  layers: LayerReport[];
  diagnostics: AnalysisDiagnostic[];
  /** PyTorch: the state_dict the model would have, to check a checkpoint against; `unknown` says why it may not be whole. */
  stateDict?: { entries: StateDictEntry[]; unknown: string[] };
}

/** Whether the trainer can build the model by its name: a class needing no arguments, a factory, a module-level instance, a TF.js model. */
export function trainableByName(model: ModelReport): boolean {
  return model.kind === 'tfjs' || model.kind === 'factory' || model.kind === 'instance' || (model.kind === 'class' && model.build === `${model.name}()`);
}
