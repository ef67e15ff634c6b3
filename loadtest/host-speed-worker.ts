/** Worker of `sampleHostSpeed`: on each message, times the fixed work and posts its CPU ms. */
import { parentPort } from 'node:worker_threads';
import { timeFixedWorkMs } from './host-speed.ts';

parentPort?.on('message', () => parentPort?.postMessage(timeFixedWorkMs()));
