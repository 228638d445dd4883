import { execFileSync } from 'node:child_process';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';

/** A checkpoint with a tensor and an object whose unpickling runs `touch marker`, as torch.save writes it (a hostile download). */
export function writeEvilCheckpoint(path: string, marker: string): void {
  const script = `import os, torch
class Payload:
    def __reduce__(self):
        return (os.system, (${JSON.stringify(`touch '${marker}'`)},))
torch.save({"model": {"fc.weight": torch.ones(2)}, "payload": Payload()}, ${JSON.stringify(path)})`;
  execFileSync(python, ['-c', script]);
}
