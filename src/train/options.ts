// What every training command shares besides its own schema: how progress is shown and the
// fields every run declares alike.
import { field, type Field } from './config.js';

/** Progress display: a bar on a TTY and plain lines otherwise ('auto'), or one of them forced. */
export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** Fields every training command declares with the same meaning; each places them in its schema. */
export const RUN_FIELDS = {
  progress: field.enum('progress display on stderr: auto (bar on a terminal, lines otherwise)', PROGRESS_MODES, 'auto'),
  keepCheckpoint: field.bool('keep checkpoint.safetensors after the run completes', false),
} satisfies Record<string, Field>;
