// The datasets CNN Lab can fetch: where their files live on the usual hosts, what they must hash
// to, and the layouts people keep them in on disk.
import type { DatasetId } from '../protocol/trainer';

export interface RemoteFile {
  /** The name on the server, and on disk once fetched. */
  name: string;
  /** Of the file as served (torchvision's published checksums). */
  md5: string;
  /** Of the gunzipped content: a mirror that recompressed the file still verifies. */
  contentMd5?: string;
}

export interface DownloadableDataset {
  id: Exclude<DatasetId, 'synthetic'>;
  label: string;
  /** Class names by label, as the torch engine and torchvision name them. */
  classes: string[];
  /** The data directory's sub-folder it is downloaded to, and a mirror's sub-folder it is fetched from. */
  folder: string;
  /** Base URLs tried in order. */
  hosts: string[];
  files: RemoteFile[];
  /** The files the engine reads, each found as it is or with .gz added. */
  required: string[];
  /** Sub-folders of the data directory (then absolute folders) that may hold `required`. */
  layouts: string[];
  /** A tar.gz whose members are unpacked into `layouts[0]` (CIFAR-10). */
  archive?: { member: (name: string) => string | undefined };
}

const idx = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
const cifarBatches = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];

export const downloadableDatasets: DownloadableDataset[] = [
  {
    id: 'mnist',
    label: 'MNIST',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    folder: 'mnist',
    hosts: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873', contentMd5: '6bbc9ace898e44ae57da46a324031adb' },
      { name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432', contentMd5: 'a25bea736e30d166cdddb491f175f624' },
      { name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3', contentMd5: '2646ac647ad5339dbf082846283269ea' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c', contentMd5: '27ae3e4e09519cfbb04c329615203637' },
    ],
    required: idx,
    layouts: ['mnist', 'MNIST/raw', 'MNIST', 'mnist/raw', '.'],
  },
  {
    id: 'fashion-mnist',
    label: 'Fashion-MNIST',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    folder: 'fashion-mnist',
    hosts: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', contentMd5: 'f4a8712d7a061bf5bd6d2ca38dc4d50a' },
      { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe', contentMd5: '9018921c3c673c538a1fc5bad174d6f9' },
      { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79', contentMd5: '8181f5470baa50b63fa0f6fddb340f0a' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310', contentMd5: '15d484375f8d13e6eb1aabb0c3f46965' },
    ],
    required: idx,
    // Debian's dataset-fashion-mnist installs the original files there.
    layouts: ['fashion-mnist', 'FashionMNIST/raw', 'FashionMNIST', 'fashion_mnist', '/usr/share/datasets/fashion-mnist'],
  },
  {
    id: 'cifar10',
    label: 'CIFAR-10',
    classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    folder: 'cifar-10',
    hosts: ['https://www.cs.toronto.edu/~kriz/'],
    files: [{ name: 'cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530' }],
    required: cifarBatches,
    layouts: ['cifar-10/cifar-10-batches-bin', 'cifar-10-batches-bin', 'cifar-10', '.'],
    archive: {
      member: (name) => {
        const match = /^cifar-10-batches-bin\/([\w.]+)$/.exec(name);
        return match?.[1] && (cifarBatches.includes(match[1]) || match[1] === 'batches.meta.txt') ? match[1] : undefined;
      },
    },
  },
];

export function downloadable(id: string): DownloadableDataset | undefined {
  return downloadableDatasets.find((dataset) => dataset.id === id);
}
