// The update rule of Liu & Wang's SVGD code ("adagrad with momentum"), one fused in-place kernel:
//   H = phi^2 on the first step, then H = alpha H + (1 - alpha) phi^2
//   theta <- theta + stepSize * phi / (fudge + sqrt(H))
import { GpuError } from '../gpu/device.js';
import { grid } from '../gpu/kernels.js';
import { recorder } from '../gpu/recorder.js';
import { describeOp, expectDType, expectShape, launch } from '../ops/launch.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { RMS_PARAMS, svgdKernel } from './kernels.js';
import { WG } from './rbf.js';

const RMSPROP = svgdKernel('rmsprop', 'rmsprop', RMS_PARAMS, 1, 2);

export interface SvgdRmspropOptions {
  /** epsilon of the SVGD code (their `stepsize`, default 1e-3 there). */
  stepSize: number;
  /** Decay of the squared-direction history; 0.9 in their code. */
  alpha?: number;
  /** Added to sqrt(H); 1e-6 in their code. */
  fudge?: number;
}

/** The SVGD code's RMSProp-like ascent along phi, with its history H on the GPU. */
export class SvgdRmsprop {
  readonly stepSize: number;
  readonly alpha: number;
  readonly fudge: number;
  private hist: Tensor | null = null;
  private steps = 0;

  constructor({ stepSize, alpha = 0.9, fudge = 1e-6 }: SvgdRmspropOptions) {
    for (const [name, v] of [['stepSize', stepSize], ['alpha', alpha], ['fudge', fudge]] as const) {
      if (!Number.isFinite(v)) throw new GpuError(`SvgdRmsprop: ${name} must be finite, got ${v}`);
    }
    if (alpha < 0 || alpha > 1) throw new GpuError(`SvgdRmsprop: alpha must be in [0, 1], got ${alpha}`);
    if (fudge <= 0) throw new GpuError(`SvgdRmsprop: fudge must be > 0, got ${fudge}`);
    this.stepSize = stepSize;
    this.alpha = alpha;
    this.fudge = fudge;
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** The history H (a handle owned by this optimizer), or null before the first step. */
  get history(): Tensor | null {
    return this.hist;
  }

  /** Updates `particles` in place along `phi` (the SVGD direction, same shape). */
  step(particles: Tensor, phi: Tensor): void {
    expectDType('SvgdRmsprop.step', 'f32', particles, phi);
    expectShape('SvgdRmsprop.step', phi, particles.shape, 'phi');
    if (phi.sharesStorage(particles)) throw new GpuError('SvgdRmsprop.step: phi must not share storage with the particles');
    if (this.hist) expectShape('SvgdRmsprop.step', particles, this.hist.shape, 'particles');
    else this.hist = keep(Tensor.empty(particles.shape, 'f32', 'svgd.rmsprop.H'));
    const hist = this.hist;
    // The step count is host state: a replay of a captured step runs this region again.
    recorder().dynamic(() => {
      launch(RMSPROP, {
        inputs: [phi],
        outputs: [particles, hist],
        params: { n: particles.size, first: this.steps === 0 ? 1 : 0, step: this.stepSize, alpha: this.alpha, fudge: this.fudge },
        overrides: { WG },
        workgroups: grid(Math.ceil(particles.size / WG)),
        label: describeOp('svgd.rmsprop', particles, phi),
      });
      this.steps++;
    });
  }

  /**
   * Restores `history` and `stepCount` as a checkpoint recorded them (null and 0 before the first
   * step); takes ownership of `history`.
   */
  restore(history: Tensor | null, steps: number): void {
    if (!Number.isInteger(steps) || steps < 0 || (history === null) !== (steps === 0)) {
      throw new GpuError(`SvgdRmsprop.restore: ${history ? 'a history' : 'no history'} with ${steps} steps`);
    }
    if (history) expectDType('SvgdRmsprop.restore', 'f32', history);
    this.hist?.dispose();
    this.hist = history ? keep(history) : null;
    this.steps = steps;
  }

  /** Frees the history; the next step starts afresh (H = phi^2). */
  dispose(): void {
    this.hist?.dispose();
    this.hist = null;
    this.steps = 0;
  }
}
