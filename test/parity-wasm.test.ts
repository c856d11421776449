/**
 * Parity with real PyTorch on the wasm backend (lib/wasm/setup.ts, the backend behind every
 * published number): the same suite as test/parity.test.ts, no case skipped.
 */
import { registerParitySuite } from './parity-suite';

await registerParitySuite('wasm');
