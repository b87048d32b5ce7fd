// Seeded permutations that reproduce the Python tools bit for bit, so that our splits are the
// very rows ATTEMPT used. ATTEMPT's `shuffled_indices` calls
//   torch.randperm(n, generator=torch.Generator().manual_seed(seed))
// whose CPU kernel is a forward Fisher-Yates over MT19937 (`random() % (n - i)`), and MT19937
// seeded with an integer is the reference init_genrand. numpy's legacy
// RandomState(seed).permutation(n) uses the same engine and seeding but a backward Fisher-Yates
// with masked rejection sampling (`random_interval`); it is offered for tools that used numpy.

const N = 624;
const M = 397;

/** MT19937 (Matsumoto & Nishimura) with init_genrand seeding, as in PyTorch's and numpy's CPU engines. */
export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  /** Seeds with the low 32 bits of `seed`, as both PyTorch and numpy do for integer seeds. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`Mt19937: seed must be a non-negative integer, got ${seed}`);
    const mt = this.mt;
    mt[0] = seed % 0x100000000;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % N]! & 0x7fffffff);
      mt[i] = mt[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /** The next 32-bit output, as an unsigned integer. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

function checkLength(n: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${what}: length must be an integer in [0, ${max}], got ${n}`);
}

/**
 * torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist() on the CPU.
 * PyTorch switches to another algorithm for n >= 2^32 / 20, which no task here reaches.
 */
export function torchRandperm(n: number, seed: number): number[] {
  checkLength(n, Math.floor(0xffffffff / 20) - 1, 'torchRandperm');
  const rng = new Mt19937(seed);
  const r = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n - 1; i++) {
    const z = rng.nextUint32() % (n - i);
    const t = r[i]!;
    r[i] = r[z + i]!;
    r[z + i] = t;
  }
  return r;
}

/** numpy's random_interval: a uniform integer in [0, max] by masking and rejection (32-bit path). */
function randomInterval(rng: Mt19937, max: number): number {
  if (max === 0) return 0;
  let mask = max;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask >>>= 0;
  let v: number;
  do v = (rng.nextUint32() & mask) >>> 0; while (v > max);
  return v;
}

/** numpy.random.RandomState(seed).permutation(n).tolist() (the legacy, version-stable generator). */
export function numpyPermutation(n: number, seed: number): number[] {
  checkLength(n, 0xffffffff, 'numpyPermutation');
  const rng = new Mt19937(seed);
  const r = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i >= 1; i--) {
    const j = randomInterval(rng, i);
    const t = r[i]!;
    r[i] = r[j]!;
    r[j] = t;
  }
  return r;
}

/** Which tool's permutation to reproduce. */
export type PermutationKind = 'torch' | 'numpy';

/** A seeded permutation of 0..n-1 in the style of `kind`. */
export function permutation(n: number, seed: number, kind: PermutationKind = 'torch'): number[] {
  return kind === 'torch' ? torchRandperm(n, seed) : numpyPermutation(n, seed);
}
