import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { expect, it } from 'vitest';
import { describeNeeding, procMissing } from '../../tests/support/describe-needing.js';
import { CpuMeter, type CpuSpent } from '../src/cpu-meter.js';
import { POSTGRES_SERVER, POSTGRES_URL } from '../src/services.js';
import { describeWithPostgres } from './services.js';


/** Reads `meter` until `enough` holds or 3 s pass (a process's time reaches /proc when it is reaped). */
async function readUntil(meter: CpuMeter, enough: (spent: CpuSpent) => boolean): Promise<CpuSpent> {
  const until = Date.now() + 3_000;
  let spent = meter.stop();
  while (!enough(spent) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    spent = meter.stop();
  }
  return spent;
}

describeNeeding('CpuMeter', procMissing, () => {
  it("counts the CPU of the child processes it is given, not the time they wait", async () => {
    // Spins 400 ms, says so, then idles until killed.
    const child = spawn(process.execPath, ['-e', "const t = Date.now(); while (Date.now() - t < 400); console.log('spun'); setInterval(() => {}, 1000)"]);
    try {
      const meter = new CpuMeter(null, () => [child.pid!]);
      meter.start();
      await once(child.stdout, 'data');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const spent = meter.stop();
      // The spin (less what ran before the meter started), not the 300 ms idle after it.
      expect(spent.processUs).toBeGreaterThan(150_000);
      expect(spent.processUs).toBeLessThan(600_000);
      expect(spent.serverUs).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  });
}, 'bench');

describeWithPostgres('CpuMeter on the PostgreSQL server', () => {
  // The meter reads the server's processes, so they must run on this machine.
  const notHere = procMissing ?? (POSTGRES_SERVER === null ? `the benchmarks' PostgreSQL (${POSTGRES_URL}) is not on this machine's loopback` : null);
  describeNeeding('of a server on this machine', notHere, () => {
    it('counts a backend that did the work and exited before the measured part ended', async () => {
      const meter = new CpuMeter(POSTGRES_SERVER);
      meter.start();
      // A connection of its own, closed before the meter is read: its backend is gone by then, and
      // its time is counted through the server's reaped children.
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query('SET jit = off');
      const started = process.cpuUsage();
      await client.query('SELECT count(*) FROM generate_series(1, 4000000)');
      const own = process.cpuUsage(started);
      await client.end();
      const spent = await readUntil(meter, (s) => (s.serverUs ?? 0) > 150_000);
      expect(spent.serverUs).toBeGreaterThan(150_000);
      // The server did the work; this process only waited for it.
      expect(own.user + own.system).toBeLessThan((spent.serverUs as number) / 2);
    });
  }, 'bench');
});
