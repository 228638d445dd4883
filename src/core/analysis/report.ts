// What the analysis says about a file: one report per model, ready for CodeLens, hovers,
// diagnostics, the summary and the CLI.
import type { LayerSpec } from './layers';
import type { Shape } from './shape';
import type { TfjsLayerSpec } from './tfjsLayers';

/** Zero-based line and UTF-16 column, as VS Code counts them. */
export interface Position {
  line: number;
  character: number;
}

export interface SourceRange {
  start: Position;
  end: Position;
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
}

export interface ModelReport {
  name: string;
  /** A PyTorch nn.Module subclass, a top-level `name = nn.Sequential(...)`, or a TF.js model. */
  kind: 'class' | 'sequential' | 'tfjs';
  /** The class name, or the variable a top-level nn.Sequential is assigned to. */
  range: SourceRange;
  /** The whole class, or the whole assignment. */
  extent: SourceRange;
  input: readonly number[];
  inputSource: 'given' | 'annotation' | 'first layer' | 'default';
  output: Shape | null;
  outputNote?: string;
  totalParams: number;
  trainableParams: number;
  /** The shapes come from PyTorch running the model (exact mode), not from the static analysis. */
  exact?: boolean;
  layers: LayerReport[];
  diagnostics: AnalysisDiagnostic[];
}
