// Finds and describes the Python interpreter that trains PyTorch models. Shared by the host (the
// welcome page, "Check Python Environment") and the CLI (`cnn-lab doctor`).
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { type PythonEnvironment, pythonEnvironmentSchema } from './protocol/environment';
import { safeParse } from './schema';

export class PythonProbeError extends Error {
  override readonly name = 'PythonProbeError';

  constructor(readonly interpreter: string, message: string) {
    super(message);
  }
}

export interface ProbeOptions {
  /** The probe program shipped in dist/trainer. */
  probeScript: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Read torch's build and the GPUs from files instead of importing torch (probe.py --quick): for a run about to import it. */
  quick?: boolean;
}

/** Where to look when the user has not named an interpreter. */
export function defaultPythonCandidates(platform: NodeJS.Platform = process.platform): string[] {
  return platform === 'win32' ? ['python', 'py'] : ['python3', 'python', '/usr/bin/python3'];
}

/** Runs the probe with `interpreter`; rejects with a PythonProbeError saying what went wrong. */
export function probePython(interpreter: string, options: ProbeOptions): Promise<PythonEnvironment> {
  const { probeScript, timeoutMs = 30_000, env = process.env, quick = false } = options;
  return new Promise((resolve, reject) => {
    // cwd is the probe's own folder so that nothing in the user's workspace shadows a module.
    execFile(
      interpreter,
      quick ? [probeScript, '--quick'] : [probeScript],
      { cwd: dirname(probeScript), env, timeout: timeoutMs, maxBuffer: 1 << 20, windowsHide: true },
      (error, stdout, stderr) => {
        const fail = (message: string) => reject(new PythonProbeError(interpreter, message));
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return fail(`"${interpreter}" was not found.`);
          if (error.killed) return fail(`"${interpreter}" did not answer within ${timeoutMs / 1000} s.`);
          const tail = stderr.trim().split('\n').slice(-3).join('\n');
          return fail(`"${interpreter}" failed (exit code ${String(error.code)})${tail ? `: ${tail}` : ''}`);
        }
        const lastLine = stdout.trim().split('\n').pop() ?? '';
        let json: unknown;
        try {
          json = JSON.parse(lastLine);
        } catch {
          return fail(`"${interpreter}" printed something that is not the probe's report: ${lastLine.slice(0, 200)}`);
        }
        const parsed = safeParse(pythonEnvironmentSchema, json);
        if (!parsed.ok) return fail(`"${interpreter}" sent an unexpected report (${parsed.error}).`);
        resolve(parsed.value);
      },
    );
  });
}

export interface PythonSearch {
  /** The first candidate that can import torch, else the first that runs at all; null if none runs. */
  found: PythonEnvironment | null;
  interpreter: string | null;
  /** Every candidate that was tried, with what it said, for troubleshooting. */
  tried: { interpreter: string; result: string }[];
}

export async function findPython(candidates: readonly string[], options: ProbeOptions): Promise<PythonSearch> {
  const tried: PythonSearch['tried'] = [];
  let fallback: { env: PythonEnvironment; interpreter: string } | null = null;
  for (const interpreter of candidates) {
    try {
      const env = await probePython(interpreter, options);
      tried.push({ interpreter, result: env.torch ? `torch ${env.torch.version}` : `Python ${env.python}, no torch` });
      if (env.torch) return { found: env, interpreter, tried };
      fallback ??= { env, interpreter };
    } catch (error) {
      tried.push({ interpreter, result: error instanceof Error ? error.message : String(error) });
    }
  }
  return { found: fallback?.env ?? null, interpreter: fallback?.interpreter ?? null, tried };
}

/** The device training would use, in words: "CUDA (NVIDIA H100)", "Apple MPS", "CPU (2 threads)". */
export function describeDevice(env: PythonEnvironment): string {
  const { torch } = env;
  if (!torch) return 'none: PyTorch is not installed';
  if (torch.cudaDevices.length > 0) {
    return `${torch.cudaVersion ? `CUDA ${torch.cudaVersion}` : 'CUDA'} (${torch.cudaDevices.join(', ')})`;
  }
  if (torch.mps) return 'Apple MPS';
  return `CPU (${torch.threads} ${torch.threads === 1 ? 'thread' : 'threads'})`;
}
