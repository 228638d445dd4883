// `cnn-lab`: CNN Lab from a terminal. Later issues add training; for now it checks the environment.
import { join } from 'node:path';
import { defaultPythonCandidates, describeDevice, findPython } from '../core/pythonEnvironment';
import { version } from '../../package.json';

const usage = `Usage: cnn-lab <command> [options]

Commands:
  doctor [--python PATH] [--json]   Find the Python that trains PyTorch models and report what it can do
  help                              Show this help
  version                           Print the version

Exit codes: 0 success, 1 the environment cannot train, 2 bad usage.`;

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function doctor(args: string[]): Promise<number> {
  const pythonIndex = args.indexOf('--python');
  const python = pythonIndex >= 0 ? args[pythonIndex + 1] : undefined;
  if (pythonIndex >= 0 && !python) {
    process.stderr.write('cnn-lab doctor: --python needs a path\n');
    return 2;
  }
  const search = await findPython(python ? [python] : defaultPythonCandidates(), { probeScript: join(__dirname, 'trainer', 'probe.py') });
  if (args.includes('--json')) {
    out(JSON.stringify(search, null, 2));
  } else {
    for (const { interpreter, result } of search.tried) out(`  tried ${interpreter}: ${result}`);
    const { found, interpreter } = search;
    if (found) {
      out(`Python      ${found.python} (${interpreter === found.executable ? interpreter : `${interpreter} → ${found.executable}`})`);
      out(`PyTorch     ${found.torch?.version ?? `not installed${found.torchError ? ` (${found.torchError})` : ''}`}`);
      out(`torchvision ${found.torchvision ?? 'not installed'}`);
      out(`Device      ${describeDevice(found)}`);
    } else {
      out('No Python interpreter could be started. Install Python 3, or name one with --python.');
    }
  }
  return search.found?.torch ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'doctor':
      return doctor(rest);
    case 'version':
    case '--version':
      out(version);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      out(usage);
      return 0;
    default:
      process.stderr.write(`cnn-lab: unknown command "${command}"\n\n${usage}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`cnn-lab: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
