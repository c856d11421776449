/**
 * Run as a child process by `doctor`: chooses the backend as a training run would and prints the
 * result as one JSON line on stdout. Native libraries (Dawn, libtensorflow) print their own
 * warnings straight to stderr while probing; in a child, those stay out of doctor's report.
 *
 *   node --import tsx cli/backend-probe.ts [auto|tensorflow|webgpu|wasm|cpu]
 */
import { describeBackend, resolveRequestedName, useBackend } from '../lib/backend';

/** Marks the result line among anything a library prints on stdout. */
export const PROBE_PREFIX = 'backend-probe:';

export interface ProbeResult {
  ok: boolean;
  /** describeBackend's line when ok, else the error's first line. */
  text: string;
}

async function probe(name: string | undefined): Promise<ProbeResult> {
  try {
    const report = await useBackend({ name: name === undefined ? undefined : resolveRequestedName(name, {}) });
    return { ok: true, text: describeBackend(report) };
  } catch (error) {
    return { ok: false, text: (error instanceof Error ? error.message : String(error)).split('\n')[0]! };
  }
}

if (process.argv[1] !== undefined && /backend-probe\.ts$/.test(process.argv[1])) {
  probe(process.argv[2]).then((result) => {
    process.stdout.write(`${PROBE_PREFIX}${JSON.stringify(result)}\n`);
    // the wasm backend's worker threads would keep the process alive
    process.exit(0);
  });
}
