// Vitest setup file: test workers use kafkajs too, so they stop its idle timer loop (and its warnings) as well.
import { stopKafkajsIdleLoop } from '../kafka/kafkajs-idle-loop.ts';

stopKafkajsIdleLoop();
