import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { type EnvironmentView, type WelcomeToHost, welcomeToWebview, type WelcomeToWebview } from '../../core/protocol/welcome';
import { h } from '../shared/dom';
import { connectToHost } from '../shared/host';

type State = Extract<WelcomeToWebview, { type: 'state' }>;

const root = document.getElementById('root') as HTMLElement;
const host = connectToHost<WelcomeToWebview, WelcomeToHost>(welcomeToWebview, (message) => render(message));

function button(label: string, message: WelcomeToHost, secondary = true): HTMLElement {
  const element = h('vscode-button', {}, label);
  element.secondary = secondary;
  element.addEventListener('click', () => host.post(message));
  return element;
}

function row(term: string, ...details: (Node | string)[]): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, ...details)];
}

function environmentRows(environment: EnvironmentView): HTMLElement[] {
  switch (environment.type) {
    case 'checking':
      return row('Python', h('vscode-progress-ring', { 'aria-label': 'Checking' }), ' looking for Python and PyTorch…');
    case 'missing':
      return [
        ...row('Python', h('span', { class: 'problem' }, 'No Python interpreter could be started.')),
        ...environment.tried.flatMap(({ interpreter, result }) => row('Tried', h('code', {}, interpreter), ` ${result}`)),
      ];
    case 'found': {
      const { environment: env, interpreter, device } = environment;
      const torch = env.torch
        ? [h('span', { 'data-field': 'torch' }, env.torch.version)]
        : [
            h('span', { class: 'problem', 'data-field': 'torch' }, 'not installed'),
            h('div', { class: 'hint' }, 'Install it with ', h('code', {}, 'pip install torch torchvision'), ' (or Debian\'s ', h('code', {}, 'python3-torch'), '), or choose a Python that has it.'),
            ...(env.torchError ? [h('div', { class: 'hint' }, env.torchError)] : []),
          ];
      return [
        ...row('Python', h('span', { 'data-field': 'python' }, env.python), ' ', h('code', {}, interpreter === env.executable ? interpreter : `${interpreter} → ${env.executable}`)),
        ...row('PyTorch', ...torch),
        ...row('torchvision', env.torchvision ?? 'not installed'),
        ...row('Device', h('span', { 'data-field': 'device' }, device)),
      ];
    }
  }
}

function statusOf(environment: EnvironmentView): string {
  switch (environment.type) {
    case 'checking':
      return 'checking';
    case 'missing':
      return 'needs Python';
    case 'found':
      return environment.environment.torch ? 'ready to train' : 'needs PyTorch';
  }
}

function render(state: State): void {
  const checking = state.environment.type === 'checking';
  const badge = h('vscode-badge', { 'data-field': 'status' }, statusOf(state.environment));
  root.setAttribute('aria-busy', String(checking));
  root.replaceChildren(
    h(
      'header',
      {},
      h('div', { class: 'logo', 'aria-hidden': 'true' }),
      h('div', {}, h('h1', {}, 'CNN Lab ', h('span', { class: 'version' }, `v${state.version}`)), h('p', { class: 'lead' }, 'See convolutional neural networks while you write, train and inspect them.')),
    ),
    h('vscode-divider'),
    h('section', { 'aria-labelledby': 'machine' }, h('h2', { id: 'machine' }, 'This machine ', badge), h('dl', {}, ...environmentRows(state.environment), ...trustRow(state.trusted))),
    h(
      'div',
      { class: 'actions' },
      button('Check Again', { type: 'recheckEnvironment' }, false),
      button(state.pythonSetting ? 'Change Python…' : 'Choose Python…', { type: 'openPythonSetting' }),
      button('Show Log', { type: 'showLog' }),
    ),
  );
}

function trustRow(trusted: boolean): HTMLElement[] {
  if (trusted) return row('Workspace', h('span', { 'data-field': 'trust' }, 'trusted: CNN Lab may run your model code'));
  return row(
    'Workspace',
    h('span', { 'data-field': 'trust' }, 'restricted: shape hints work, training waits until you trust this folder'),
    ' ',
    button('Manage Trust…', { type: 'manageTrust' }),
  );
}
