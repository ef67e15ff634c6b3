// Vitest setup file: test workers use kafkajs too, so they drop its harmless timer warning as well.
import { silenceKafkajsTimeoutWarning } from '../kafka/kafkajs-warnings.ts';

silenceKafkajsTimeoutWarning();
