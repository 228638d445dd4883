// Runs the real probe program with real interpreters found on this machine.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { modelPackageNames } from '../../src/core/analysis/python/builtins';
import { describeDevice, findPython, probePython, PythonProbeError } from '../../src/core/pythonEnvironment';
import type { PythonEnvironment } from '../../src/core/protocol/environment';

const probeScript = resolve(__dirname, '../../src/trainer/probe.py');
const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';

/** Asked directly, without the probe, as the oracle the probe's report is checked against. */
function ask(expression: string, env: NodeJS.ProcessEnv = process.env): string {
  const script = `import platform\ntry:\n import torch\nexcept Exception:\n torch = None\nprint(${expression})`;
  return execFileSync(python, ['-c', script], { encoding: 'utf8', env }).trim();
}

describe('Python environment probe', () => {
  it('reports the interpreter, its version and its torch as the interpreter itself does', async () => {
    const env = await probePython(python, { probeScript });
    assert.equal(env.python, ask('platform.python_version()'));
    assert.equal(env.executable, ask('__import__("sys").executable'));
    assert.equal(env.torch?.version ?? 'None', ask('torch and torch.__version__'));
    assert.equal(env.torch?.threads ?? 'None', ask('torch and torch.get_num_threads()') === 'None' ? 'None' : Number(ask('torch.get_num_threads()')));
  });

  it('looks for the model packages the analysis reads, and finds each where Python imports it from', async () => {
    const env = await probePython(python, { probeScript });
    assert.deepEqual(Object.keys(env.modelPackages ?? {}).sort(), [...modelPackageNames].sort());
    for (const [name, folder] of Object.entries(env.modelPackages ?? {})) {
      assert.equal(folder ?? 'None', ask(`__import__("importlib.util").util.find_spec(${JSON.stringify(name)}) and __import__("os").path.dirname(__import__("importlib.util").util.find_spec(${JSON.stringify(name)}).origin)`), name);
    }
  });

  it('quick (for a run about to import torch) reports what the full probe does, in milliseconds', async () => {
    const full = await probePython(python, { probeScript });
    const quick = await probePython(python, { probeScript, quick: true });
    for (const key of ['version', 'cudaVersion', 'cudaDevices', 'mps'] as const) assert.deepEqual(quick.torch?.[key], full.torch?.[key], key);
    assert.deepEqual([quick.python, quick.executable, quick.torchvision, quick.numpy], [full.python, full.executable, full.torchvision, full.numpy]);
  });

  it('quick reads torch\'s build without importing it, and falls back to importing where the build is unreadable', async () => {
    const shadow = mkdtempSync(join(tmpdir(), 'cnnlab-cuda-torch-'));
    mkdirSync(join(shadow, 'torch'));
    writeFileSync(join(shadow, 'torch', '__init__.py'), 'raise OSError("imported")\n');
    writeFileSync(join(shadow, 'torch', 'version.py'), "from typing import Optional\n__version__ = '2.11.0+cu128'\ncuda: Optional[str] = '12.8'\n");
    const env = await probePython(python, { probeScript, quick: true, env: { ...process.env, PYTHONPATH: shadow } });
    assert.deepEqual(env.torch && { version: env.torch.version, cudaVersion: env.torch.cudaVersion }, { version: '2.11.0+cu128', cudaVersion: '12.8' });
    writeFileSync(join(shadow, 'torch', 'version.py'), 'this is not Python\n');
    const imported = await probePython(python, { probeScript, quick: true, env: { ...process.env, PYTHONPATH: shadow } });
    assert.equal(imported.torchError, 'OSError: imported');
  });

  it('reports a torch that fails to import, with its error, instead of failing', async () => {
    const shadow = mkdtempSync(join(tmpdir(), 'cnnlab-broken-torch-'));
    mkdirSync(join(shadow, 'torch'));
    writeFileSync(join(shadow, 'torch', '__init__.py'), 'raise OSError("libtorch_cpu.so: cannot open shared object file")\n');
    const env = await probePython(python, { probeScript, env: { ...process.env, PYTHONPATH: shadow } });
    assert.equal(env.torch, null);
    assert.equal(env.torchError, 'OSError: libtorch_cpu.so: cannot open shared object file');
    assert.equal(describeDevice(env), 'none: PyTorch is not installed');
  });

  it('says clearly when the interpreter does not exist', async () => {
    await assert.rejects(probePython('/nonexistent/python3', { probeScript }), (error: unknown) => {
      assert.ok(error instanceof PythonProbeError);
      assert.equal(error.message, '"/nonexistent/python3" was not found.');
      return true;
    });
  });

  it('says clearly when the "interpreter" is not Python', async () => {
    await assert.rejects(probePython('/bin/sh', { probeScript }), /^PythonProbeError: "\/bin\/sh" failed \(exit code 2\): .*/s);
  });

  it('gives up on an interpreter that hangs, after the timeout', async () => {
    const hang = mkdtempSync(join(tmpdir(), 'cnnlab-hang-'));
    const script = join(hang, 'probe.py');
    writeFileSync(script, 'import time\ntime.sleep(30)\n');
    await assert.rejects(probePython(python, { probeScript: script, timeoutMs: 300 }), /did not answer within 0.3 s/);
  });

  it('rejects a report that does not match the declared schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-liar-'));
    const script = join(dir, 'probe.py');
    writeFileSync(script, 'print(\'{"executable": 1}\')\n');
    await assert.rejects(probePython(python, { probeScript: script }), /sent an unexpected report \(executable: expected a string/);
  });

  it('prefers the first candidate that has torch, and records every one it tried', async () => {
    const hasTorch = ask('torch is not None') === 'True';
    const search = await findPython(['/nonexistent/python3', python], { probeScript });
    assert.equal(search.interpreter, python);
    assert.equal(search.tried.length, 2);
    assert.match(search.tried[0]?.result ?? '', /was not found/);
    assert.equal(search.tried[1]?.result, hasTorch ? `torch ${ask('torch.__version__')}` : `Python ${ask('platform.python_version()')}, no torch`);
  });

  it('finds nothing when no candidate runs', async () => {
    const search = await findPython(['/nonexistent/a', '/nonexistent/b'], { probeScript });
    assert.equal(search.found, null);
    assert.deepEqual(search.tried.map((t) => t.interpreter), ['/nonexistent/a', '/nonexistent/b']);
  });

  describe('describeDevice', () => {
    const base: PythonEnvironment = { executable: 'py', python: '3.12.0', torch: null, torchError: null, torchvision: null, numpy: null };
    const torch = { version: '2.5.0', cudaVersion: null, cudaDevices: [], mps: false, threads: 8 };
    const cases: [string, PythonEnvironment, string][] = [
      ['CUDA with its version and devices', { ...base, torch: { ...torch, cudaVersion: '12.4', cudaDevices: ['NVIDIA H100', 'NVIDIA H100'] } }, 'CUDA 12.4 (NVIDIA H100, NVIDIA H100)'],
      ['Apple MPS', { ...base, torch: { ...torch, mps: true } }, 'Apple MPS'],
      ['the CPU with its threads', { ...base, torch }, 'CPU (8 threads)'],
      ['one thread in the singular', { ...base, torch: { ...torch, threads: 1 } }, 'CPU (1 thread)'],
    ];
    for (const [what, env, expected] of cases) it(`names ${what}`, () => assert.equal(describeDevice(env), expected));
  });
});
