// A folder of images with one sub-folder per class (torchvision's ImageFolder layout), listed as the
// torch engine reads it: train/ and test/ (or val/, valid/) sub-folders are the splits when present.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface ImageFile {
  path: string;
  label: number;
}

export interface ImageFolderListing {
  classes: string[];
  /** With train/ and test/ sub-folders, both; otherwise every image is in `train`. */
  train: ImageFile[];
  test: ImageFile[] | null;
}

export const imageExtensions = ['.png', '.jpg', '.jpeg'];

/** A PNG or JPEG file as a data: URL for a webview to decode; a file over `maxBytes` is refused with its size. */
export function imageDataUrl(path: string, maxBytes: number): string {
  const size = statSync(path).size;
  if (size > maxBytes) throw new Error(`${path} is ${(size / 1e6).toFixed(1)} MB; images up to ${(maxBytes / 1e6).toFixed(0)} MB open here`);
  return `data:image/${extname(path).toLowerCase() === '.png' ? 'png' : 'jpeg'};base64,${readFileSync(path).toString('base64')}`;
}

function classesIn(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

function filesIn(folder: string, classes: string[]): ImageFile[] {
  return classes.flatMap((name, label) =>
    readdirSync(join(folder, name))
      // Hidden files are skipped: macOS leaves ._name.png metadata files beside copied images.
      .filter((file) => !file.startsWith('.') && imageExtensions.some((extension) => file.toLowerCase().endsWith(extension)))
      .sort()
      .map((file) => ({ path: join(folder, name, file), label })),
  );
}

export function listImageFolder(root: string): ImageFolderListing {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`${root} is not a folder`);
  const testName = ['test', 'val', 'valid'].find((name) => existsSync(join(root, name)));
  if (existsSync(join(root, 'train')) && testName) {
    const classes = classesIn(join(root, 'train'));
    return { classes, train: filesIn(join(root, 'train'), classes), test: filesIn(join(root, testName), classes) };
  }
  const classes = classesIn(root);
  const train = filesIn(root, classes);
  if (train.length === 0) throw new Error(`${root} has no class folders of PNG or JPEG images: put each class's images in a sub-folder named after it`);
  return { classes, train, test: null };
}
