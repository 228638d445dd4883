// Runs a bundled mocha suite inside the extension host, with the real `vscode` module, as
// @vscode/test-electron's --extensionTestsPath would. code-server has no such flag, so this
// extension, linked beside CNN Lab by test/host/run.mjs, starts the suite when the host activates
// it. Each result is appended to a JSON-lines file that the driver prints as it goes.
const fs = require('node:fs');

exports.activate = function activate(context) {
  // The Python Debugger extension cannot be installed here; what it launches for the "debugpy" type,
  // debugpy's own adapter, can: View Tensor's tests debug a real program with it.
  const vscode = require('vscode');
  const python = process.env.CNN_LAB_TEST_PYTHON || '/usr/bin/python3';
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory('debugpy', { createDebugAdapterDescriptor: () => new vscode.DebugAdapterExecutable(python, ['-m', 'debugpy.adapter']) }));
  const { CNN_LAB_TEST_SUITE: suite, CNN_LAB_TEST_RESULT: resultFile, CNN_LAB_MOCHA: mochaPath } = process.env;
  // A window reload starts a new extension host; the suites have run already by then.
  if (!suite || !resultFile || !mochaPath || fs.existsSync(resultFile)) return;
  const write = (event) => fs.appendFileSync(resultFile, `${JSON.stringify(event)}\n`);
  const Mocha = require(mochaPath);

  class LineReporter extends Mocha.reporters.Base {
    constructor(runner, options) {
      super(runner, options);
      runner.on('suite', (s) => s.title && write({ event: 'suite', title: s.title }));
      runner.on('pass', (t) => write({ event: 'pass', title: t.title, duration: t.duration }));
      runner.on('fail', (t, error) => write({ event: 'fail', title: t.fullTitle(), error: String(error && (error.stack || error.message || error)) }));
      runner.once('end', () => write({ event: 'end', stats: this.stats }));
    }
  }

  // CNN_LAB_GREP: only the tests whose titles match, while working on one view.
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, reporter: LineReporter, ...(process.env.CNN_LAB_GREP ? { grep: process.env.CNN_LAB_GREP } : {}) });
  mocha.addFile(suite);
  try {
    mocha.run();
  } catch (error) {
    write({ event: 'fail', title: 'loading the suite', error: String(error && error.stack) });
    write({ event: 'end', stats: { passes: 0, failures: 1 } });
  }
};
