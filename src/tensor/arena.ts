// A parameter arena: several tensors as views of one storage, each at a VIEW_ALIGN-aligned offset,
// so that one kernel binding reaches all of them (WGSL cannot index a variable number of
// bindings). The optimizers update a whole group of arena parameters in one dispatch, or a few
// segmented by a per-tensor table (src/optim/group.ts). The padding between views starts at zero
// and no view covers it, so elementwise passes over the whole arena leave it at zero.
import { gpu, GpuError } from '../gpu/device.js';
import { tensor } from './create.js';
import { keep } from './scope.js';
import { fmtShape, numel, Tensor, VIEW_ALIGN, type Shape } from './tensor.js';

/** Where each of `shapes` starts in an arena (elements) and the arena's total size. */
export function arenaLayout(shapes: readonly Shape[]): { offsets: number[]; size: number } {
  let size = 0;
  const offsets = shapes.map((s) => {
    const at = size;
    // An empty tensor still takes a slot: every member has its own offset.
    size += Math.max(1, Math.ceil(numel(s) / VIEW_ALIGN)) * VIEW_ALIGN;
    return at;
  });
  return { offsets, size };
}

/** True when one buffer over `shapes` fits the device (its size and the largest storage binding). */
export function arenaFits(shapes: readonly Shape[]): boolean {
  const { limits } = gpu().device;
  return arenaLayout(shapes).size * 4 <= Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
}

/**
 * Uploads host tensors as one arena's views when it fits the device (`arenaFits`), else as
 * separate tensors; either way one tensor per entry, in order, named as given and taken out of
 * every scope. A view's arena goes with `disposeMember`.
 */
export function uploadParameters(entries: ReadonlyArray<{ name: string; data: Float32Array; shape: Shape }>): Tensor[] {
  const views = arenaFits(entries.map((e) => e.shape))
    ? [...Arena.upload(entries, entries.map((e) => e.name)).views]
    : entries.map((e) => {
        const t = tensor(e.data, e.shape);
        t.name = e.name;
        return t;
      });
  return views.map((t) => keep(t));
}

/** Disposes `t` and, where it is an arena's view, the arena's own handle (the storage goes with the last view). */
export function disposeMember(t: Tensor): void {
  Arena.of(t)?.dispose();
  t.dispose();
}

const owners = new WeakMap<Tensor, Arena>();

export class Arena {
  /** One handle on the whole storage, [size]; the arena owns it (`dispose`). */
  readonly whole: Tensor;
  /** The member views, in the order of the shapes given; their owner disposes them. */
  readonly views: readonly Tensor[];
  /** Each view's offset in `whole`, in elements. */
  readonly offsets: readonly number[];
  readonly shapes: readonly Shape[];

  /**
   * An arena over `whole`, a zero-filled f32 tensor of `arenaLayout(shapes).size` elements (made
   * by the caller: zeros on the GPU are an op, above this layer). Takes ownership of `whole`.
   */
  constructor(whole: Tensor, shapes: readonly Shape[], names: readonly (string | undefined)[] = []) {
    const { offsets, size } = arenaLayout(shapes);
    if (whole.rank !== 1 || whole.size !== size || whole.dtype !== 'f32') {
      throw new GpuError(`Arena: the storage is ${whole.describe()}, the layout of ${shapes.length} tensors needs f32[${size}]`);
    }
    this.whole = keep(whole);
    this.shapes = shapes.map((s) => Object.freeze([...s]));
    this.offsets = offsets;
    this.views = shapes.map((s, i) => {
      const v = whole.view(s, offsets[i]!);
      v.name = names[i];
      owners.set(v, this);
      return v;
    });
  }

  /** Uploads host tensors into a new arena in one write (padding zero); views are named by `names`. */
  static upload(data: ReadonlyArray<{ data: Float32Array; shape: Shape }>, names: readonly (string | undefined)[] = []): Arena {
    const shapes = data.map((d) => d.shape);
    const { offsets, size } = arenaLayout(shapes);
    const host = new Float32Array(size);
    data.forEach((d, i) => {
      if (d.data.length !== numel(d.shape)) throw new GpuError(`Arena.upload: ${d.data.length} values for ${fmtShape(d.shape)}`);
      host.set(d.data, offsets[i]);
    });
    return new Arena(tensor(host, [size]), shapes, names);
  }

  /** The arena that made `t` (one of its `views`), if any. Other handles on the same data are not looked up. */
  static of(t: Tensor): Arena | undefined {
    return owners.get(t);
  }

  get size(): number {
    return this.whole.size;
  }

  /** The index of the member that `t` is a handle on (same storage, offset and shape), or -1. */
  indexOf(t: Tensor): number {
    if (!t.sharesStorage(this.whole)) return -1;
    const i = this.offsets.indexOf(t.offset - this.whole.offset);
    const s = i < 0 ? undefined : this.shapes[i]!;
    return s && s.length === t.rank && s.every((d, k) => d === t.shape[k]) ? i : -1;
  }

  /** True when `other` has the same member shapes in the same order (hence the same offsets). */
  sameLayout(other: Arena): boolean {
    return other.shapes.length === this.shapes.length && this.shapes.every((s, i) => fmtShape(s) === fmtShape(other.shapes[i]!));
  }

  /** Frees the arena's own handle; the storage goes when the views are disposed too. */
  dispose(): void {
    this.whole.dispose();
  }
}
