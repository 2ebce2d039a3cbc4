import { Writable } from 'node:stream';
import { stdoutDestination } from '../../src/lib/logger';

/** A reader that takes nothing until released (a stalled log shipper). */
class StalledReader extends Writable {
  pending: (() => void)[] = [];
  received: string[] = [];
  constructor() {
    super({ highWaterMark: 64 });
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.received.push(chunk.toString());
    this.pending.push(cb);
  }
  release(): void {
    const cbs = this.pending;
    this.pending = [];
    for (const cb of cbs) cb();
    if (this.pending.length) this.release();
  }
}

const line = (i: number) => `${JSON.stringify({ level: 30, msg: 'webhook stored', i })}\n`;

describe('log lines to a stdout nobody reads', () => {
  it('are queued up to the bound, then dropped and counted, never blocking the writer', () => {
    const out = new StalledReader();
    const dest = stdoutDestination(out, 1000);
    let counted = 0;
    dest.onDrop(() => (counted += 1));
    for (let i = 0; i < 200; i++) dest.write(line(i));
    expect(out.writableLength).toBeGreaterThan(1000);
    expect(out.writableLength).toBeLessThan(1000 + line(199).length * 2);
    expect(dest.dropped).toBeGreaterThan(150);
    expect(counted).toBe(dest.dropped);
  });

  it('tell how many lines were lost once the reader has caught up, and flush waits at most its timeout', async () => {
    const out = new StalledReader();
    const dest = stdoutDestination(out, 1000);
    const gaps: number[] = [];
    dest.onCaughtUp((n) => gaps.push(n));
    for (let i = 0; i < 100; i++) dest.write(line(i));
    const started = Date.now();
    await dest.flush(100); // the reader is still stalled: flush gives up rather than wait
    expect(Date.now() - started).toBeLessThan(1000);
    out.release();
    await dest.flush(1000);
    expect(out.writableLength).toBe(0);
    expect(gaps).toEqual([dest.dropped]);
    expect(out.received.length + dest.dropped).toBe(100);
  });

  it('drop everything once the reader is gone (EPIPE)', () => {
    const out = new StalledReader();
    const dest = stdoutDestination(out, 1000);
    out.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    dest.write(line(1));
    dest.write(line(2));
    expect(dest.dropped).toBe(2);
    expect(out.received).toEqual([]);
  });
});
