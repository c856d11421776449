/**
 * Parity with real PyTorch on the cpu backend: the suite of test/parity-suite.ts (every schedule,
 * optimizer, model and trajectory of the fixture manifest, README tolerances).
 */
import { registerParitySuite } from './parity-suite';

await registerParitySuite('cpu');
