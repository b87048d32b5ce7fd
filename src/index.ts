// The public library API of bpt-webgpu: what embedders import.
export { initGpu, shutdownGpu, gpu, GpuError } from './gpu/device.js';
export type { AdapterReport, GpuOptions } from './gpu/device.js';
