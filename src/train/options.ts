// What every training command shares besides its own schema: how progress is shown, the fields
// every run declares alike, and the command-line glue (a JSON config file, --resume).
import { field, type Field, type OptionSpec } from './config.js';

/** Progress display: a bar on a TTY and plain lines otherwise ('auto'), or one of them forced. */
export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** Fields every training command declares with the same meaning; each places them in its schema. */
export const RUN_FIELDS = {
  progress: field.enum('progress display: auto (bar on a TTY, lines otherwise)', PROGRESS_MODES, 'auto'),
  keepCheckpoint: field.bool('keep checkpoint.safetensors after the run completes', false),
} satisfies Record<string, Field>;

/** The options every stage command adds to its schema's: a config file and --resume. */
export const STAGE_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', help: 'JSON file of options (field names as below in camelCase); flags override it' },
};

/** --resume, for the commands whose runs checkpoint. */
export const RESUME_OPTIONS: Record<string, OptionSpec> = {
  resume: { type: 'boolean', help: 'continue the run in --out from its checkpoint (same options)' },
};

/** Splits parsed command-line values into the config file path and the schema's flags. */
export function stageFlags(values: Record<string, string | boolean | undefined>): { configFile: string | null; resume: boolean; flags: Record<string, unknown> } {
  const { config, resume, ...flags } = values;
  return { configFile: typeof config === 'string' ? config : null, resume: resume === true, flags };
}
