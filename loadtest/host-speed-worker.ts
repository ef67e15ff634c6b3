/** Worker of `sampleHostSpeed`: on each message, times the fixed work by this thread's own CPU clock. */
import { parentPort } from 'node:worker_threads';
import { fixedWork } from './host-speed.ts';

let sink = 0;
parentPort?.on('message', () => {
  const started = process.threadCpuUsage();
  sink ^= fixedWork();
  const used = process.threadCpuUsage(started);
  parentPort?.postMessage(Math.round((used.user + used.system) / 100) / 10 + (sink === 0.5 ? 1 : 0));
});
