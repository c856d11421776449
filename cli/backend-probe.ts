/**
 * Run as a child process, two ways:
 *
 *   node --import tsx cli/backend-probe.ts [auto|tensorflow|webgpu|wasm|cpu]
 *     by `doctor`: chooses the backend as a training run would and prints the result as one JSON
 *     line on stdout ({ ok, text }).
 *   node --import tsx cli/backend-probe.ts time <candidate> '<net as JSON>'
 *     by automatic selection (lib/backend.ts childTimer): starts one candidate and times a few
 *     training steps of the net on it ({ ok, msPerStep, text }).
 *
 * Native libraries (Dawn, libtensorflow) print their own warnings straight to stderr while
 * probing; in a child, those stay out of the parent's output.
 */
import { CANDIDATE_ORDER, describeBackend, PROBE_PREFIX, resolveRequestedName, startCandidate, useBackend, type CandidateId, type ChildTiming, type TimedNet } from '../lib/backend';
import { timeTrainingSteps } from '../lib/step-timing';

export { PROBE_PREFIX };

export interface ProbeResult {
  ok: boolean;
  /** describeBackend's line when ok, else the error's first line. */
  text: string;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

async function probe(name: string | undefined): Promise<ProbeResult> {
  try {
    const report = await useBackend({ name: name === undefined ? undefined : resolveRequestedName(name, {}) });
    return { ok: true, text: describeBackend(report) };
  } catch (error) {
    return { ok: false, text: firstLine(error) };
  }
}

async function time(candidate: string, netJson: string): Promise<ChildTiming> {
  try {
    if (!(CANDIDATE_ORDER as readonly string[]).includes(candidate)) return { ok: false, text: `unknown candidate '${candidate}'` };
    const started = await startCandidate(candidate as CandidateId);
    if (started.ok === false) return { ok: false, text: started.reason };
    const msPerStep = await timeTrainingSteps(JSON.parse(netJson) as TimedNet);
    return { ok: true, msPerStep, text: describeBackend(started.report) };
  } catch (error) {
    return { ok: false, text: firstLine(error) };
  }
}

if (process.argv[1] !== undefined && /backend-probe\.ts$/.test(process.argv[1])) {
  const args = process.argv.slice(2);
  const work: Promise<ProbeResult | ChildTiming> = args[0] === 'time' ? time(args[1] ?? '', args[2] ?? '{}') : probe(args[0]);
  work.then((result) => {
    process.stdout.write(`${PROBE_PREFIX}${JSON.stringify(result)}\n`);
    // the wasm backend's worker threads would keep the process alive
    process.exit(0);
  });
}
