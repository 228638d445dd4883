// The webview's end of the host connection: validated incoming messages and the ready handshake.
import { type Schema, safeParse } from '../../core/schema';

interface VsCodeApi {
  postMessage(message: unknown): void;
  setState(state: unknown): void;
  getState(): unknown;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface HostConnection<ToHost> {
  post(message: ToHost): void;
  /** Kept by VS Code with the panel: what its serializer gets back after a reload. */
  setState(state: unknown): void;
  /** What the page saved before the window reloaded, or undefined. */
  readonly savedState: unknown;
}

/** Listens for the host's messages, dropping any that do not match `inbound`, then says `ready`. */
export function connectToHost<ToWebview, ToHost extends { type: string }>(
  inbound: Schema<ToWebview>,
  onMessage: (message: ToWebview) => void,
): HostConnection<ToHost> {
  const api = acquireVsCodeApi();
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const parsed = safeParse(inbound, event.data);
    if (parsed.ok) onMessage(parsed.value);
  });
  const connection: HostConnection<ToHost> = { post: (message) => api.postMessage(message), setState: (state) => api.setState(state), savedState: api.getState() };
  api.postMessage({ type: 'ready' });
  return connection;
}
