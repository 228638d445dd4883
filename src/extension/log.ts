import * as vscode from 'vscode';

/** The extension's one log: the "CNN Lab" output channel, with levels the user can filter. */
export class Log implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('CNN Lab', { log: true });

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string, error?: unknown): void {
    this.channel.error(error === undefined ? message : `${message}: ${describeError(error)}`);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
