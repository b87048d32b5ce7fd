import { gpu } from '../../gpu/device.js';
import type { Command } from '../command.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'print the WebGPU adapter the engine uses (vendor, architecture, features, limits) as JSON',
  schema: {},
  async run() {
    const report = gpu().report;
    return { summary: JSON.stringify(report, null, 2), result: { ...report } };
  },
};
