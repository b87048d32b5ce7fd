// Per-adapter choice among kernel variants. An op family asks `choose` (synchronous: ops only
// record) for a shape class; the answer is the variant measured fastest on this adapter if a
// tuning run has cached one, else the op's static heuristic. Measuring is always explicit
// (`tune`, `tunePending`): never a side effect of running an op, so tests time nothing unless
// they ask. Choices persist in a JSON file keyed by adapter, family and shape class:
//   BPT_TUNE_CACHE   path of the file (default ~/.cache/bpt-webgpu/tune.json)
//   BPT_TUNE=0       ignore the file and always use the heuristic
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { gpu } from './device.js';
import { recorder } from './recorder.js';

/** One decision to make: which of `candidates` runs shape class `shapeClass` of `family` best. */
export interface TuneRequest<V extends string = string> {
  /** Kernel family, e.g. `matmul`. */
  family: string;
  /** A coarse description of the shapes that share a choice, e.g. `m1024.k1024.n1024.nn`. */
  shapeClass: string;
  /** Variants that can run this shape on this adapter. */
  candidates: readonly V[];
  /** The static heuristic's choice (one of the candidates). */
  fallback: V;
}

/**
 * Records one execution of a variant (synchronously, without submitting). `prepare` builds the
 * inputs once and returns the runner plus a cleanup; the tuner submits and times the runner.
 */
export type TunePrepare<V extends string> = () => { run: (variant: V) => void; dispose: () => void };

export interface TuneResult<V extends string = string> {
  choice: V;
  /** Fastest timed run per candidate, milliseconds (empty when tuning is disabled). */
  timings: Partial<Record<V, number>>;
  /** How the candidates were timed. */
  clock: 'gpu-timestamps' | 'wall' | 'none';
}

interface CacheEntry {
  choice: string;
  timings: Record<string, number>;
  clock: string;
  at: string;
}

interface CacheFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

/** Whether tuning (and the cache) is enabled: BPT_TUNE=0 turns it off. */
export function tuningEnabled(): boolean {
  return process.env.BPT_TUNE !== '0';
}

/** Path of the tuning cache file. */
export function tuneCachePath(): string {
  return process.env.BPT_TUNE_CACHE ?? join(homedir(), '.cache', 'bpt-webgpu', 'tune.json');
}

let cache: { path: string; file: CacheFile } | null = null;

function loadCache(): CacheFile {
  const path = tuneCachePath();
  if (cache?.path === path) return cache.file;
  let file: CacheFile = { version: 1, entries: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CacheFile>;
    if (parsed.version === 1 && parsed.entries && typeof parsed.entries === 'object') file = { version: 1, entries: parsed.entries };
  } catch {
    // Missing or unreadable: start empty; the next tuning run rewrites it.
  }
  cache = { path, file };
  return file;
}

function saveCache(file: CacheFile): void {
  const path = tuneCachePath();
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename, so a concurrent reader never sees half a file.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 1));
  renameSync(tmp, path);
}

/**
 * The cache key: the adapter (and whether subgroups are on), the family, the shape class and the
 * candidates, so that a variant added to a family is measured rather than passed over by a choice
 * cached before it existed.
 */
function tuneKey(req: Pick<TuneRequest, 'family' | 'shapeClass' | 'candidates'>): string {
  const g = gpu();
  const r = g.report;
  return `${r.description}|${r.vendor}|${r.architecture}|sg${g.hasSubgroups ? 1 : 0}|${req.family}|${req.shapeClass}|${req.candidates.join(',')}`;
}

const pending = new Map<string, { req: TuneRequest; prepare: TunePrepare<string> }>();

/**
 * The variant to use: the cached measurement's winner when tuning is on and it is still a
 * candidate, else the heuristic. An uncached request is remembered (with `prepare`, if given) for
 * `tunePending`.
 */
export function choose<V extends string>(req: TuneRequest<V>, prepare?: TunePrepare<V>): V {
  if (!tuningEnabled() || req.candidates.length < 2) return req.fallback;
  const key = tuneKey(req);
  const hit = loadCache().entries[key];
  if (hit && (req.candidates as readonly string[]).includes(hit.choice)) return hit.choice as V;
  if (prepare && !pending.has(key)) pending.set(key, { req, prepare: prepare as TunePrepare<string> });
  return req.fallback;
}

/** Candidates whose best run is shorter than this many milliseconds get three times the rounds. */
const SHORT_MS = 10;
/** From the second round on, a candidate this many times slower than the best is not run again. */
const DROP_FACTOR = 3;
/** Another candidate replaces the heuristic's choice only when at least 5% faster. */
const MARGIN = 0.95;

/**
 * Times every candidate (after a warm-up run that also compiles its pipelines) and caches the
 * fastest, or the heuristic's choice when nothing beats it clearly. GPU timestamps are used when the adapter has them, else wall time over a sync. The
 * candidates take turns, one run each per round, so that load from elsewhere on the machine hits
 * all of them alike; each keeps its fastest run (other load only ever adds time), and from the
 * second round on a candidate far slower than the best is dropped. Returns the heuristic untimed
 * when tuning is disabled.
 */
export async function tune<V extends string>(
  req: TuneRequest<V>,
  prepare: TunePrepare<V>,
  { reps = 5 }: { reps?: number } = {},
): Promise<TuneResult<V>> {
  if (!tuningEnabled()) return { choice: req.fallback, timings: {}, clock: 'none' };
  const rec = recorder();
  const useTimestamps = gpu().hasTimestamps && !rec.profiler.enabled;
  const clock = useTimestamps ? 'gpu-timestamps' : 'wall';
  const { run, dispose } = prepare();
  const timings: Partial<Record<V, number>> = {};
  const once = async (v: V): Promise<number> => {
    if (!useTimestamps) {
      const t0 = performance.now();
      run(v);
      await rec.sync();
      return performance.now() - t0;
    }
    rec.profiler.start();
    run(v);
    await rec.sync();
    rec.profiler.stop();
    return (await rec.profiler.collect()).reduce((sum, r) => sum + r.durationNs, 0) / 1e6;
  };
  try {
    await rec.sync();
    for (const v of req.candidates) {
      run(v);
      await rec.sync();
    }
    let alive = [...req.candidates];
    // Short runs suffer most from a stray time slice elsewhere, so they get more rounds.
    for (let round = 0, rounds = reps; round < rounds; round++) {
      for (const v of alive) timings[v] = Math.min(timings[v] ?? Infinity, await once(v));
      const best = Math.min(...alive.map((v) => timings[v]!));
      if (round === 0 && best < SHORT_MS) rounds = 3 * reps;
      if (round > 0) alive = alive.filter((v) => timings[v]! <= DROP_FACTOR * best);
    }
  } finally {
    rec.profiler.stop();
    dispose();
  }
  // The heuristic keeps its place unless another candidate is clearly faster (noise is not).
  let fastest = req.fallback;
  for (const v of req.candidates) if ((timings[v] ?? Infinity) < (timings[fastest] ?? Infinity)) fastest = v;
  const choice = (timings[fastest] ?? Infinity) < MARGIN * (timings[req.fallback] ?? Infinity) ? fastest : req.fallback;
  const file = loadCache();
  file.entries[tuneKey(req)] = { choice, timings: timings as Record<string, number>, clock, at: new Date().toISOString() };
  saveCache(file);
  pending.delete(tuneKey(req));
  return { choice, timings, clock };
}

/** Tunes every pending shape class (e.g. after a first training step); returns what it chose. */
export async function tunePending(opts: { reps?: number } = {}): Promise<Array<TuneRequest & TuneResult>> {
  const out: Array<TuneRequest & TuneResult> = [];
  for (const { req, prepare } of [...pending.values()]) out.push({ ...req, ...(await tune(req, prepare, opts)) });
  return out;
}
