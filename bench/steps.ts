/**
 * `--steps`: which steps of the ladder the bench runs side by side with PyTorch. A list of steps
 * and ranges, e.g. '8', '6-8', '3,6,8', '1-3,8'; in ladder order, each step once.
 */
import { UsageError } from '../lib/errors';
import { RECIPES } from '../lib/recipes';

const LAST_STEP = RECIPES.length;
const ALLOWED = `a step 1-${LAST_STEP}, a range such as 3-${LAST_STEP}, or a list such as 3,6,${LAST_STEP}`;

function stepNumber(text: string, spec: string): number {
  const step = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(step >= 1 && step <= LAST_STEP)) {
    throw new UsageError(`--steps '${spec}': '${text}' is not a step: give ${ALLOWED}`);
  }
  return step;
}

/** The steps `spec` names, ascending, each once; throws a UsageError naming the allowed forms. */
export function parseSteps(spec: string): number[] {
  const steps = new Set<number>();
  for (const part of spec.split(',').map((p) => p.trim())) {
    const ends = part.split('-');
    if (ends.length > 2 || part === '') throw new UsageError(`--steps '${spec}': '${part}' is not a step or a range: give ${ALLOWED}`);
    const first = stepNumber(ends[0]!, spec);
    const last = stepNumber(ends.at(-1)!, spec);
    if (last < first) throw new UsageError(`--steps '${spec}': the range '${part}' runs backwards: write ${last}-${first}`);
    for (let step = first; step <= last; step++) steps.add(step);
  }
  return [...steps].sort((a, b) => a - b);
}
