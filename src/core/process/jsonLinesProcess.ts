// The one way CNN Lab runs a helper process: JSON objects, one per line, on stdout, each checked
// against the declared schema; stderr goes to the log; stop closes stdin, then SIGTERM, then
// SIGKILL; why the process ended is recorded.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type Schema, safeParse } from '../schema';

export type ExitReason =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'stopped' }
  | { kind: 'failed to start'; message: string };

export function describeExit(reason: ExitReason): string {
  switch (reason.kind) {
    case 'exited':
      return reason.signal ? `killed by ${reason.signal}` : `exited with code ${reason.code}`;
    case 'stopped':
      return 'stopped';
    case 'failed to start':
      return `failed to start: ${reason.message}`;
  }
}

export interface JsonLinesOptions<In> {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  schema: Schema<In>;
  onMessage(message: In): void;
  /** A stdout line that is not a valid message: the peer is broken, and says so here. */
  onProtocolError(line: string, problem: string): void;
  onStderr(line: string): void;
}

export class JsonLinesProcess<In, Out> {
  private readonly child: ChildProcess;
  private stopping = false;
  readonly exited: Promise<ExitReason>;

  constructor(options: JsonLinesOptions<In>) {
    this.child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        if (this.child.pid === undefined) resolve({ kind: 'failed to start', message: error.message });
      });
      // 'close', not 'exit': it comes after stdout is drained, so the last message has been read.
      this.child.once('close', (code, signal) => resolve(this.stopping ? { kind: 'stopped' } : { kind: 'exited', code, signal }));
    });
    // A write to a process that has just died must not throw out of the caller.
    this.child.stdin?.on('error', () => undefined);
    if (this.child.stdout) {
      createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => {
        if (line.trim() === '') return;
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch {
          options.onProtocolError(line.slice(0, 500), 'not JSON');
          return;
        }
        const parsed = safeParse(options.schema, json);
        if (parsed.ok) options.onMessage(parsed.value);
        else options.onProtocolError(line.slice(0, 500), parsed.error);
      });
    }
    if (this.child.stderr) createInterface({ input: this.child.stderr, crlfDelay: Infinity }).on('line', options.onStderr);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  send(message: Out): boolean {
    if (!this.running || !this.child.stdin?.writable) return false;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  /** Closes stdin; a helper that does not leave within `graceMs` gets SIGTERM, then SIGKILL. */
  async stop(graceMs = 2000): Promise<ExitReason> {
    if (!this.running) return this.exited;
    this.stopping = true;
    this.child.stdin?.end();
    const escalate = [
      setTimeout(() => this.child.kill('SIGTERM'), graceMs),
      setTimeout(() => this.child.kill('SIGKILL'), 2 * graceMs),
    ];
    const reason = await this.exited;
    escalate.forEach(clearTimeout);
    return reason;
  }

  /** For a helper stuck in user code: no grace. Its exit is recorded as the kill it was. */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}
