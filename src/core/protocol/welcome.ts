// Messages between the host and the welcome page. Both sides validate what they receive.
import { array, boolean, type Infer, messages, nullable, object, string } from '../schema';
import { pythonEnvironmentSchema } from './environment';

const environmentView = messages({
  checking: {},
  found: {
    environment: pythonEnvironmentSchema,
    interpreter: string({ maxLength: 4096 }),
    device: string({ maxLength: 500 }),
  },
  missing: {
    tried: array(object({ interpreter: string({ maxLength: 4096 }), result: string({ maxLength: 2000 }) }), { maxLength: 20 }),
  },
});

export type EnvironmentView = Infer<typeof environmentView>;

export const welcomeToWebview = messages({
  state: {
    version: string({ maxLength: 50 }),
    trusted: boolean,
    environment: environmentView,
    /** What the user set in cnnLab.pythonPath, or null when CNN Lab searches on its own. */
    pythonSetting: nullable(string({ maxLength: 4096 })),
  },
});

export const welcomeToHost = messages({
  ready: {},
  recheckEnvironment: {},
  showLog: {},
  openPythonSetting: {},
  manageTrust: {},
});

export type WelcomeToWebview = Infer<typeof welcomeToWebview>;
export type WelcomeToHost = Infer<typeof welcomeToHost>;
