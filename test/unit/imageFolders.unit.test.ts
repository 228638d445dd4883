// Image folders as users make them, through the torch engine's own loader (datasets.py's image_folder)
// and the dataset browser's listing: every PNG and JPEG mode Pillow writes, odd sizes, files that are
// not images, one class, empty folders. Each folder either loads as a user would expect (grey kept
// grey, 16-bit scaled, not clipped) or ends in a message that names the file or folder. Prints the counts.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listImageFolder } from '../../src/core/datasets/imageFolder';
import { type TrainerEvent, trainingDefaults } from '../../src/core/protocol/trainer';
import { prepareDataset } from '../../src/core/datasets/datasets';
import { TrainingRun } from '../../src/core/training/trainingRun';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');
const trainerDir = join(repo, 'dist/trainer');

/** Writes each case's folder with Pillow: two classes of six images unless the case says otherwise. */
const makeFolders = `import os, sys
from PIL import Image
root = sys.argv[1]

def gradient(mode, size=(12, 10)):
    image = Image.linear_gradient("L").resize(size)
    if mode == "I;16":  # 0..65535, as a 16-bit PNG holds it
        return image.convert("I").point(lambda v: v * 257)
    return image.convert(mode)

def folder(name, images, classes=("bars", "dots")):
    for c in classes:
        os.makedirs(os.path.join(root, name, c), exist_ok=True)
    for i, (file, image) in enumerate(images):
        path = os.path.join(root, name, classes[i % len(classes)], file)
        if isinstance(image, bytes):
            open(path, "wb").write(image)
        else:
            image.save(path, **({"progressive": True} if "progressive" in file else {}))

def many(mode, extension=".png", size=(12, 10)):
    return [(f"{i}{extension}", gradient(mode, size)) for i in range(12)]

for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
    folder(f"png-{mode.replace(';', '')}", many(mode))
for mode in ("L", "RGB", "CMYK"):
    folder(f"jpeg-{mode}", many(mode, ".jpg"))
folder("jpeg-progressive", [(f"{i}.progressive.jpg", gradient("RGB")) for i in range(12)])
folder("mixed-modes-and-sizes", [(f"{i}{'.jpg' if m == 'CMYK' else '.png'}", gradient(m, s)) for i, (m, s) in enumerate([("L", (1, 1)), ("RGBA", (300, 7)), ("P", (7, 300)), ("I;16", (64, 64)), ("1", (5, 5)), ("CMYK", (9, 9))] * 2)] + [("upper.PNG", gradient("L")), (".hidden.png", b"not an image")])
png = open(os.path.join(root, "png-L", "bars", "0.png"), "rb").read()
folder("truncated-png", many("L")[:11] + [("torn.png", png[: len(png) // 2])])
folder("text-named-png", many("L")[:11] + [("notes.png", b"these are my notes, not a picture")])
folder("zero-byte-png", many("L")[:11] + [("empty.png", b"")])
folder("one-class", many("L"), classes=("cats",))
os.makedirs(os.path.join(root, "empty"))
folder("empty-class", many("L"), classes=("bars", "dots"))
os.makedirs(os.path.join(root, "empty-class", "stripes"))
folder("two-images", many("L")[:2])
folder("mismatched-splits/train", many("L"))
folder("mismatched-splits/test", many("L"), classes=("bars", "stripes"))
`;

/** Each folder through the engine's loader: what it loaded (channels, size, mean of the first class's pixels) or the message it refused with. */
const loadFolders = `import json, os, sys, traceback
sys.path.insert(0, sys.argv[1])
from cnn_lab_engine import datasets
from cnn_lab_engine.protocol import TrainingError
root = sys.argv[2]
for name in sorted(os.listdir(root)) + ["does-not-exist"]:
    try:
        (x, y), (tx, ty), classes = datasets.image_folder(os.path.join(root, name), 8, 0)
        print(json.dumps({"name": name, "shape": list(x.shape[1:]), "count": len(x) + len(tx), "classes": classes, "mean": x.float().mean().item()}))
    except TrainingError as error:
        print(json.dumps({"name": name, "refused": str(error)}))
    except Exception:
        print(json.dumps({"name": name, "crash": traceback.format_exc()}))
`;

type Outcome = { name: string; shape?: number[]; count?: number; mean?: number; refused?: string; crash?: string };

describe('image folders of odd sizes and modes', function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'cnnlab-folders-'));
  let outcomes: Outcome[] = [];

  before(() => {
    execFileSync(python, ['-c', makeFolders, root]);
    outcomes = execFileSync(python, ['-c', loadFolders, trainerDir, root], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Outcome);
  });
  after(() => {
    const loaded = outcomes.filter((o) => o.shape).length;
    const refused = outcomes.filter((o) => o.refused).length;
    process.stdout.write(`      ${outcomes.length} image folders: ${loaded} loaded, ${refused} refused with a message naming the file or folder, ${outcomes.length - loaded - refused} crashes\n`);
  });
  const outcome = (name: string) => {
    const found = outcomes.find((o) => o.name === name);
    assert.ok(found, name);
    assert.equal(found.crash, undefined, `${name} crashed:\n${found.crash}`);
    return found;
  };

  it('loads every PNG and JPEG mode, grey kept grey and colour as RGB, 16-bit grey scaled to 8 bits rather than clipped', () => {
    const channels = { 'png-1': 1, 'png-L': 1, 'png-LA': 1, 'png-I16': 1, 'jpeg-L': 1, 'png-P': 3, 'png-RGB': 3, 'png-RGBA': 3, 'jpeg-RGB': 3, 'jpeg-CMYK': 3, 'jpeg-progressive': 3 };
    for (const [name, count] of Object.entries(channels)) {
      const loaded = outcome(name);
      assert.deepEqual([loaded.shape, loaded.count], [[count, 8, 8], 12], name);
    }
    // The same left-to-right gradient in 8 and 16 bits: the same mean once both are 8-bit.
    const [eight, sixteen] = [outcome('png-L').mean ?? 0, outcome('png-I16').mean ?? 0];
    assert.ok(Math.abs(eight - sixteen) < 2, `8-bit mean ${eight}, 16-bit mean ${sixteen}`);
    assert.ok(sixteen < 200, 'not clipped to white');
  });

  it('resizes images of any size and mixed modes to one shape, and skips hidden files', () => {
    // 1×1 to 300×7, grey, palette, RGBA, 16-bit, 1-bit and CMYK together: colour wins; upper.PNG counts, .hidden.png does not.
    assert.deepEqual([outcome('mixed-modes-and-sizes').shape, outcome('mixed-modes-and-sizes').count], [[3, 8, 8], 13]);
  });

  it('refuses files that are not whole images, naming the file', () => {
    assert.match(outcome('truncated-png').refused ?? '', /torn\.png is not an image Pillow can read: .*truncated/);
    assert.match(outcome('text-named-png').refused ?? '', /notes\.png is not an image Pillow can read: cannot identify image file/);
    assert.match(outcome('zero-byte-png').refused ?? '', /empty\.png is not an image Pillow can read/);
  });

  it('refuses one class, no classes, an empty class folder, too few images and splits that disagree, saying what to do', () => {
    assert.match(outcome('one-class').refused ?? '', /one-class needs a sub-folder of PNG or JPEG images for each class, and at least two classes to tell apart \(found 1 class folder and 12 images\)$/);
    assert.match(outcome('empty').refused ?? '', /empty needs a sub-folder .* \(found 0 class folders and 0 images\)$/);
    assert.match(outcome('empty-class').refused ?? '', /empty-class: the class folder stripes holds no PNG or JPEG images; add some or remove it$/);
    assert.match(outcome('two-images').refused ?? '', /two-images: 2 images cannot be split into training and test images; add more$/);
    assert.match(outcome('mismatched-splits').refused ?? '', /train\/ has the classes \['bars', 'dots'\] but test\/ has \['bars', 'stripes'\]/);
    assert.match(outcome('does-not-exist').refused ?? '', /does-not-exist is not a folder/);
  });

  it('ends a run on a folder with a torn image in a failed run whose error names the file', async () => {
    const config = await prepareDataset({ ...trainingDefaults, modelFile: join(repo, 'examples/mnist_mlp.py'), dataset: join(root, 'truncated-png'), imageSize: 28, epochs: 1, device: 'cpu' }, { download: false });
    const events: TrainerEvent[] = [];
    const result = await TrainingRun.start({ python, trainerDir, config, runsDir: join(root, 'runs'), onEvent: (event) => events.push(event), onLog: () => undefined }).result;
    assert.equal(result.status, 'failed');
    const error = events.find((event) => event.type === 'error');
    assert.match(error?.type === 'error' ? error.message : '', /torn\.png is not an image Pillow can read/);
  });

  it('lists folders for the dataset browser as the engine reads them, and refuses ones with nothing to show', () => {
    const listing = listImageFolder(join(root, 'mixed-modes-and-sizes'));
    assert.deepEqual([listing.classes, listing.train.length, listing.test], [['bars', 'dots'], 13, null]);
    assert.throws(() => listImageFolder(join(root, 'empty')), /empty has no class folders of PNG or JPEG images: put each class's images in a sub-folder named after it/);
    assert.throws(() => listImageFolder(join(root, 'nowhere')), /nowhere is not a folder/);
  });
});
