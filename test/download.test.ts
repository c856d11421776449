import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { userCacheDir } from '../lib/cache-dir';
import { loadMnist, MnistChecksumError, MnistNotFoundError, MNIST_FILES, MNIST_MIRRORS } from '../lib/data';
import { DownloadError, downloadVerified, defaultProgress, removeStaleTempFiles, textProgress, type DownloadProgress } from '../lib/download';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const mnistDir = path.resolve(repoRoot, process.env.MNIST_DIR ?? '../shared/data/mnist');

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-download-test-'));
let tempCount = 0;
function tempDir(): string {
  const dir = path.join(tempRoot, String(tempCount++));
  fs.mkdirSync(dir);
  return dir;
}

// Files the local mirror serves: a small synthetic one and the four real archives.
const SMALL = { name: 'small.bin', bytes: randomBytes(300_000) };
const smallTarget = { name: SMALL.name, sha256: createHash('sha256').update(SMALL.bytes).digest('hex') };
const served = new Map<string, Buffer>([[SMALL.name, SMALL.bytes]]);
for (const file of MNIST_FILES) served.set(file.name, fs.readFileSync(path.join(mnistDir, file.name)));

/**
 * A mirror per behaviour, by path prefix: /good/ serves the file, /e404/ and /e500/ fail, /html/ is
 * an error page with status 200, /html-octet/ the same page labelled as binary, /wrong/ flips a
 * byte, /cut/ and /cut-chunked/ drop the connection halfway, /stall/ sends a little then nothing.
 */
const requests: string[] = [];
const sockets = new Set<Socket>();
const server = http.createServer((request, response) => {
  requests.push(request.url ?? '');
  const [, mode, name] = (request.url ?? '').split('/');
  const body = served.get(name ?? '');
  if (!body) return void response.writeHead(404).end('no such file');
  const half = body.subarray(0, Math.floor(body.length / 2));
  switch (mode) {
    case 'good':
      return void response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
    case 'e404':
      return void response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
    case 'e500':
      return void response.writeHead(500).end();
    case 'html':
      return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><body>Sign in to continue</body></html>');
    case 'html-octet':
      return void response.writeHead(200, { 'content-type': 'application/octet-stream' }).end('\n<html><body>Quota exceeded</body></html>');
    case 'wrong': {
      const altered = Buffer.from(body);
      altered[altered.length >> 1]! ^= 0xff;
      return void response.writeHead(200, { 'content-length': altered.length }).end(altered);
    }
    case 'cut':
    case 'cut-chunked': {
      response.writeHead(200, mode === 'cut' ? { 'content-length': body.length } : {});
      response.write(half, () => setTimeout(() => request.socket.destroy(), 20));
      return;
    }
    case 'stall':
      response.writeHead(200, { 'content-length': body.length });
      response.write(half.subarray(0, 1000));
      return;
    default:
      return void response.writeHead(404).end();
  }
});
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
let base = '';
let closedPortBase = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port that was just free and is now closed: connection refused.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPortBase = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(tempRoot, { recursive: true, force: true });
});

const mirror = (mode: string): string => `${base}/${mode}/`;

async function failure<T extends Error>(promise: Promise<unknown>, errorClass: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), 'one-line message');
    return error;
  }
  assert.fail(`expected ${errorClass.name}`);
}

describe('downloadVerified', () => {
  it('writes the verified file and reports progress up to the whole size', async () => {
    const destDir = path.join(tempDir(), 'made-on-demand');
    const progress: DownloadProgress[] = [];
    const file = await downloadVerified(smallTarget, { mirrors: [mirror('good')], destDir, onProgress: (p) => progress.push(p) });
    assert.equal(file, path.join(destDir, SMALL.name));
    assert.ok(fs.readFileSync(file).equals(SMALL.bytes));
    assert.deepEqual(fs.readdirSync(destDir), [SMALL.name]);
    assert.ok(progress.length >= 2);
    assert.ok(progress.every((p, i) => i === 0 || p.receivedBytes >= progress[i - 1]!.receivedBytes));
    assert.deepEqual(progress.at(-1), { file: SMALL.name, url: mirror('good') + SMALL.name, receivedBytes: SMALL.bytes.length, totalBytes: SMALL.bytes.length, done: true });
  });

  it('moves past every kind of bad mirror to a good one', async () => {
    const destDir = tempDir();
    const modes = ['e404', 'e500', 'html', 'html-octet', 'wrong', 'cut', 'cut-chunked'];
    await downloadVerified(smallTarget, { mirrors: [closedPortBase + '/x/', ...modes.map(mirror), mirror('good')], destDir });
    assert.ok(fs.readFileSync(path.join(destDir, SMALL.name)).equals(SMALL.bytes));
    assert.deepEqual(fs.readdirSync(destDir), [SMALL.name]);
  });

  it('names each mirror and its failure when all fail, leaving nothing behind', async () => {
    const destDir = tempDir();
    const modes = ['e404', 'e500', 'html', 'html-octet', 'wrong', 'cut', 'cut-chunked'];
    const error = await failure(downloadVerified(smallTarget, { mirrors: [closedPortBase + '/x/', ...modes.map(mirror)], destDir }), DownloadError);
    const reasons = [/connection failed/, /HTTP 404/, /HTTP 500/, /HTML page/, /HTML page/, /checksum mismatch: SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/, /connection lost after \d+ bytes/, /connection lost after \d+ bytes/];
    assert.equal(error.failures.length, reasons.length);
    error.failures.forEach((line, i) => assert.match(line, reasons[i]!, line));
    assert.ok(error.failures[1]!.startsWith(mirror('e404') + SMALL.name));
    assert.deepEqual(fs.readdirSync(destDir), []);
  });

  it('leaves no partial file when the connection is cut midway, and the next run starts clean', async () => {
    const destDir = tempDir();
    await failure(downloadVerified(smallTarget, { mirrors: [mirror('cut')], destDir }), DownloadError);
    assert.deepEqual(fs.readdirSync(destDir), []);
    await downloadVerified(smallTarget, { mirrors: [mirror('good')], destDir });
    assert.deepEqual(fs.readdirSync(destDir), [SMALL.name]);
  });

  it('gives up on a mirror that stalls', async () => {
    const destDir = tempDir();
    const error = await failure(downloadVerified(smallTarget, { mirrors: [mirror('stall')], destDir, stallTimeoutMs: 300 }), DownloadError);
    assert.match(error.message, /stalled: nothing received for 300 ms/);
    assert.deepEqual(fs.readdirSync(destDir), []);
  });

  it('removes the temporary files of killed downloads but not of running ones', async () => {
    const destDir = tempDir();
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    const dead = `${SMALL.name}.${deadPid}.k1lled00.download`;
    const live = `${SMALL.name}.${process.pid}.running0.download`;
    const unrelated = `other.bin.${deadPid}.k1lled00.download`;
    for (const name of [dead, live, unrelated]) fs.writeFileSync(path.join(destDir, name), 'partial');
    assert.deepEqual(removeStaleTempFiles(destDir, SMALL.name), [dead]);
    assert.deepEqual(fs.readdirSync(destDir).sort(), [live, unrelated].sort());
  });

  it('removes a temporary file untouched for hours even when its pid is alive again (reused)', () => {
    const destDir = tempDir();
    const reused = `${SMALL.name}.${process.pid}.0ld00000.download`;
    const live = `${SMALL.name}.${process.pid}.running0.download`;
    for (const name of [reused, live]) fs.writeFileSync(path.join(destDir, name), 'partial');
    const hoursAgo = new Date(Date.now() - 3 * 3600 * 1000);
    fs.utimesSync(path.join(destDir, reused), hoursAgo, hoursAgo);
    assert.deepEqual(removeStaleTempFiles(destDir, SMALL.name), [reused]);
    assert.deepEqual(fs.readdirSync(destDir), [live]);
  });

  it('reports progress to the given callback, else on stderr only when it is a terminal', () => {
    const callback = (): void => {};
    assert.equal(defaultProgress(callback), callback);
    assert.equal(typeof defaultProgress(undefined), process.stderr.isTTY ? 'function' : 'undefined');
  });

  it('draws a text progress line that ends when the file is done', () => {
    const written: string[] = [];
    const show = textProgress({ write: (text: string) => written.push(text) });
    show({ file: 'a.gz', url: 'https://example.org/m/a.gz', receivedBytes: 1_000_000, totalBytes: 4_000_000, done: false });
    show({ file: 'a.gz', url: 'https://example.org/m/a.gz', receivedBytes: 4_000_000, totalBytes: 4_000_000, done: true });
    assert.match(written[0]!, /^\rdownloading a\.gz from example\.org: 1\.0\/4\.0 MB 25%/);
    assert.match(written.at(-1)!, /4\.0\/4\.0 MB 100%.*\n$/);
  });
});

describe('loadMnist with downloads', () => {
  it('downloads the four files into the cache once, then reads them from there', async () => {
    const cacheDir = path.join(tempDir(), 'cache');
    const files = new Set<string>();
    const first = await loadMnist({ cacheDir, env: {}, mirrors: [mirror('e500'), mirror('good')], onProgress: (p) => p.done && files.add(p.file) });
    assert.equal(first.train.count, 60_000);
    assert.equal(first.test.count, 10_000);
    assert.deepEqual([...files].sort(), MNIST_FILES.map((f) => f.name).sort());
    assert.deepEqual(fs.readdirSync(cacheDir).sort(), MNIST_FILES.map((f) => f.name).sort());
    const requestsBefore = requests.length;
    const second = await loadMnist({ cacheDir, env: {}, mirrors: [mirror('good')] });
    assert.equal(requests.length, requestsBefore, 'no download when the cache is complete');
    assert.deepEqual(second.test.labels, first.test.labels);
  });

  it('refuses a corrupt cached file with its path, never deleting it or downloading over it', async () => {
    const cacheDir = tempDir();
    for (const file of MNIST_FILES) fs.writeFileSync(path.join(cacheDir, file.name), served.get(file.name)!);
    const corrupt = path.join(cacheDir, 't10k-labels-idx1-ubyte.gz');
    fs.writeFileSync(corrupt, 'garbage');
    const requestsBefore = requests.length;
    const error = await failure(loadMnist({ cacheDir, env: {}, mirrors: [mirror('good')] }), MnistChecksumError);
    assert.ok(error.message.includes(corrupt), error.message);
    assert.match(error.message, /remove it and it is downloaded again/);
    assert.deepEqual(requests.slice(requestsBefore), []);
    assert.equal(fs.readFileSync(corrupt, 'utf8'), 'garbage');
  });

  it('downloads into a folder of its own, after one warning naming the cache, when the cache cannot be written', async () => {
    const blocker = path.join(tempDir(), 'a-file');
    fs.writeFileSync(blocker, 'where the cache folder should be');
    const cacheDir = path.join(blocker, 'cache');
    const warnings: string[] = [];
    const arrays = await loadMnist({ cacheDir, env: {}, mirrors: [mirror('good')], onWarning: (m) => warnings.push(m) });
    assert.equal(arrays.train.count, 60_000);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^warning: cannot write the MNIST cache .*a-file\/cache \((ENOTDIR|EEXIST)\); downloading into .*mnist-speedrun-download-.* for this run only$/);
    assert.equal(fs.readFileSync(blocker, 'utf8'), 'where the cache folder should be');
  });

  it('downloads only the files missing from the cache, keeping those there', async () => {
    const cacheDir = tempDir();
    for (const file of MNIST_FILES.slice(0, 3)) fs.writeFileSync(path.join(cacheDir, file.name), served.get(file.name)!);
    const requestsBefore = requests.length;
    const arrays = await loadMnist({ cacheDir, env: {}, mirrors: [mirror('good')] });
    assert.deepEqual(requests.slice(requestsBefore), ['/good/t10k-labels-idx1-ubyte.gz']);
    assert.equal(arrays.test.labels.length, 10_000);
  });

  it('downloads nothing when MNIST_SPEEDRUN_MIRRORS is empty, and uses its mirrors when set', async () => {
    const cacheDir = path.join(tempDir(), 'cache');
    const requestsBefore = requests.length;
    const off = await failure(loadMnist({ cacheDir, env: { MNIST_SPEEDRUN_MIRRORS: '' } }), MnistNotFoundError);
    assert.match(off.message, /downloads are off \(MNIST_SPEEDRUN_MIRRORS is empty\)/);
    assert.equal(requests.length, requestsBefore);
    const arrays = await loadMnist({ cacheDir, env: { MNIST_SPEEDRUN_MIRRORS: `${mirror('e404')} ${mirror('good').slice(0, -1)}` } });
    assert.equal(arrays.test.count, 10_000);
    assert.ok(requests.slice(requestsBefore).includes('/good/t10k-labels-idx1-ubyte.gz'));
  });

  it('says where to put the files and which URLs to fetch when offline with no cache', async () => {
    const cacheDir = path.join(tempDir(), 'cache');
    const mirrors = [closedPortBase + '/a/', mirror('e404'), mirror('html')];
    const error = await failure(loadMnist({ cacheDir, env: {}, mirrors }), MnistNotFoundError);
    assert.ok(error.message.includes(`put ${MNIST_FILES.map((f) => f.name).join(', ')} in ${cacheDir}`), error.message);
    assert.match(error.message, /MNIST_DIR/);
    for (const file of MNIST_FILES) assert.ok(error.message.includes(mirrors[0] + file.name), file.name);
    assert.match(error.message, /HTTP 404/);
    assert.match(error.message, /HTML page/);
    assert.deepEqual(fs.readdirSync(cacheDir), []);
  });

  it('leaves no partial file after a download cut midway; the next run starts clean', async () => {
    const cacheDir = tempDir();
    await failure(loadMnist({ cacheDir, env: {}, mirrors: [mirror('cut')] }), MnistNotFoundError);
    assert.deepEqual(fs.readdirSync(cacheDir), []);
    const arrays = await loadMnist({ cacheDir, env: {}, mirrors: [mirror('good')] });
    assert.equal(arrays.train.count, 60_000);
    assert.deepEqual(fs.readdirSync(cacheDir).sort(), MNIST_FILES.map((f) => f.name).sort());
  });

  it('lists at least two public https mirrors of the original files', () => {
    assert.ok(MNIST_MIRRORS.length >= 2);
    for (const url of MNIST_MIRRORS) assert.match(url, /^https:\/\/[^/]+\/.*\/$/);
  });
});

describe('userCacheDir', () => {
  it('follows XDG_CACHE_HOME when it is absolute, else ~/.cache', () => {
    assert.equal(userCacheDir({ XDG_CACHE_HOME: '/var/cache/me' }, '/home/me'), '/var/cache/me/mnist-speedrun');
    assert.equal(userCacheDir({}, '/home/me'), '/home/me/.cache/mnist-speedrun');
    assert.equal(userCacheDir({ XDG_CACHE_HOME: 'relative/dir' }, '/home/me'), '/home/me/.cache/mnist-speedrun');
  });
});
