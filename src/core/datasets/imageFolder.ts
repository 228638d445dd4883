// A folder of images with one sub-folder per class (torchvision's ImageFolder layout), listed as the
// torch engine reads it: train/ and test/ (or val/, valid/) sub-folders are the splits when present.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

const imageExtensions = ['.png', '.jpg', '.jpeg'];

function classesIn(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

function filesIn(folder: string, classes: string[]): ImageFile[] {
  return classes.flatMap((name, label) =>
    readdirSync(join(folder, name))
      .filter((file) => imageExtensions.some((extension) => file.toLowerCase().endsWith(extension)))
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
  return { classes, train: filesIn(root, classes), test: null };
}
