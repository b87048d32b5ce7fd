// Progress in bar mode on a (fake) terminal: messages printed through it reach the terminal, also
// the one printed just before the bar stops (a run's test line), and the bar is drawn again below
// them. Without a terminal, 'bar' prints plain lines rather than nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Progress } from '../../src/train/progress.js';

const t = suite('cli/progress');

/** A stream that says it is a terminal and keeps what is written (escape codes included). */
function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns: 120,
    write: (s: string | Uint8Array): boolean => {
      chunks.push(typeof s === 'string' ? s : Buffer.from(s).toString());
      return true;
    },
  };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

t('bar mode on a terminal: every message is printed, the last one right before stop() too', () => {
  const { stream, text } = fakeStream(true);
  const p = new Progress('target pt', 4, 'bar', 0, stream);
  p.update(2, { loss: 1.5 });
  p.log('epoch 1 validation: rte 50.00');
  p.update(4, { loss: 1.25 });
  p.log('test (best epoch 1): rte 62.50');
  p.stop();
  const out = text();
  assert.ok(out.includes('epoch 1 validation: rte 50.00\n'), out);
  assert.ok(out.includes('test (best epoch 1): rte 62.50\n'), out);
  const afterMessage = out.slice(out.indexOf('epoch 1 validation'));
  assert.match(afterMessage, /target pt \[[^\]]*\] \d+%/, 'the bar is drawn again below the message');
});

t("'bar' without a terminal prints lines and messages instead of nothing", () => {
  const { stream, text } = fakeStream(false);
  const p = new Progress('eval test', 3, 'bar', 0, stream);
  p.update(3);
  p.log('rte: 66.67');
  p.stop();
  assert.match(text(), /rte: 66\.67\n/);
  assert.match(text(), /eval test 3\/3 \(100\.0%\)/);
});

t.run();
