// The probe's report on a Python environment (src/trainer/probe.py prints it), checked on arrival.
import { array, boolean, type Infer, nullable, number, object, optional, string } from '../schema';

const torchInfo = object({
  version: string({ maxLength: 100 }),
  cudaVersion: nullable(string({ maxLength: 100 })),
  cudaDevices: array(string({ maxLength: 200 }), { maxLength: 64 }),
  mps: boolean,
  threads: number({ integer: true, min: 1 }),
});

export const pythonEnvironmentSchema = object({
  executable: string({ maxLength: 4096 }),
  python: string({ maxLength: 100 }),
  torch: nullable(torchInfo),
  torchError: nullable(string({ maxLength: 2000 })),
  torchvision: nullable(string({ maxLength: 100 })),
  numpy: nullable(string({ maxLength: 100 })),
  /** The folders of the installed packages whose model factories the shape analysis reads (torchvision, timm); absent from an older probe. */
  modelPackages: optional(object({ torchvision: nullable(string({ maxLength: 4096 })), timm: nullable(string({ maxLength: 4096 })) })),
});

export type PythonEnvironment = Infer<typeof pythonEnvironmentSchema>;
