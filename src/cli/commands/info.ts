import { gpu } from '../../gpu/device.js';
import type { Command } from '../command.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'print the WebGPU adapter the engine uses (vendor, architecture, features, limits) as JSON',
  usage: '',
  options: {},
  async run() {
    process.stdout.write(JSON.stringify(gpu().report, null, 2) + '\n');
  },
};
