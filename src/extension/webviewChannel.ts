import * as vscode from 'vscode';
import { type Schema, safeParse } from '../core/schema';
import { Disposable } from './disposable';
import type { Log } from './log';

/**
 * The host's end of one webview's messages. Every incoming message is validated against the
 * view's declared schema; anything else is logged and dropped without effect. Messages posted
 * before the webview says `ready` are held back, so the first state is never lost.
 */
export class WebviewChannel<ToHost extends { type: string }, ToWebview> extends Disposable {
  private ready = false;
  private readonly pending: ToWebview[] = [];

  constructor(
    private readonly webview: vscode.Webview,
    private readonly view: string,
    inbound: Schema<ToHost>,
    handle: (message: ToHost) => void | Promise<void>,
    private readonly log: Log,
  ) {
    super();
    this._register(
      webview.onDidReceiveMessage(async (raw: unknown) => {
        const parsed = safeParse(inbound, raw);
        if (!parsed.ok) {
          log.warn(`${view} webview sent an invalid message, ignored: ${parsed.error}`);
          return;
        }
        if (parsed.value.type === 'ready') this.flush();
        try {
          await handle(parsed.value);
        } catch (error) {
          log.error(`${view} webview: handling "${parsed.value.type}" failed`, error);
        }
      }),
    );
  }

  post(message: ToWebview): void {
    if (!this.ready) {
      this.pending.push(message);
      return;
    }
    void this.webview.postMessage(message).then(undefined, (error: unknown) => this.log.error(`${this.view} webview: post failed`, error));
  }

  private flush(): void {
    this.ready = true;
    for (const message of this.pending.splice(0)) this.post(message);
  }
}
