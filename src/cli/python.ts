import { join } from 'node:path';
import { defaultPythonCandidates, findPython, type PythonSearch } from '../core/pythonEnvironment';

/** The interpreter named with --python, else the usual places, probed with the shipped probe.py (`quick`: without importing torch). */
export function searchPython(python?: string, quick = false): Promise<PythonSearch> {
  return findPython(python ? [python] : defaultPythonCandidates(), { probeScript: join(__dirname, 'trainer', 'probe.py'), quick });
}
