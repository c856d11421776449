/**
 * What a PyTorch trajectory case (test/pytorch-fixtures.ts, TrajectoryCase) trains with, in the
 * library's terms: its OneCycleLR schedule (PyTorch's defaults for whatever the manifest leaves
 * out) and its optimizer (the manifest's hyperparameters where given, else those of the ladder
 * recipe with the same net and optimizer kind).
 */
import { RECIPES, type OptimizerSpec, type Recipe, type ScheduleSpec } from '../lib/recipes';
import type { TrajectoryCase } from './pytorch-fixtures';

/** torch.optim.lr_scheduler.OneCycleLR's defaults (PyTorch 1.13). */
const ONECYCLE_DEFAULTS = {
  pct_start: 0.3,
  anneal_strategy: 'cos',
  div_factor: 25,
  final_div_factor: 1e4,
  three_phase: false,
} as const;

export function trajectorySchedule(c: TrajectoryCase): Extract<ScheduleSpec, { kind: 'onecycle' }> {
  return {
    kind: 'onecycle',
    maxLr: c.max_lr,
    pctStart: c.pct_start ?? ONECYCLE_DEFAULTS.pct_start,
    anneal: c.anneal_strategy ?? ONECYCLE_DEFAULTS.anneal_strategy,
    divFactor: c.div_factor ?? ONECYCLE_DEFAULTS.div_factor,
    finalDivFactor: c.final_div_factor ?? ONECYCLE_DEFAULTS.final_div_factor,
    threePhase: c.three_phase ?? ONECYCLE_DEFAULTS.three_phase,
  };
}

/** The one optimizer setting the ladder uses for this net and kind; throws if none or several. */
function recipeOptimizer(c: TrajectoryCase, recipes: readonly Recipe[]): OptimizerSpec {
  const specs = new Map<string, OptimizerSpec>();
  for (const r of recipes) {
    if (r.net === c.name && r.optimizer.kind === c.optimizer) specs.set(JSON.stringify(r.optimizer), r.optimizer);
  }
  if (specs.size !== 1) {
    throw new Error(
      `trajectory ${c.name}/${c.optimizer}: the manifest leaves hyperparameters out and ${specs.size} ladder ` +
        'optimizer settings match this net and optimizer (need exactly one)',
    );
  }
  return [...specs.values()][0]!;
}

/**
 * The optimizer of a trajectory case. Its lr is the schedule's first value; the run sets the
 * learning rate before every step anyway.
 */
export function trajectoryOptimizer(c: TrajectoryCase, firstLr: number, recipes: readonly Recipe[] = RECIPES): OptimizerSpec {
  if (c.optimizer === 'adam') {
    const given = c.betas !== undefined && c.eps !== undefined;
    const base = given ? null : recipeOptimizer(c, recipes);
    const fallback = base?.kind === 'adam' ? base : null;
    return {
      kind: 'adam',
      lr: firstLr,
      beta1: c.betas?.[0] ?? fallback!.beta1,
      beta2: c.betas?.[1] ?? fallback!.beta2,
      eps: c.eps ?? fallback!.eps,
    };
  }
  const given = c.rho !== undefined && c.eps !== undefined;
  const base = given ? null : recipeOptimizer(c, recipes);
  const fallback = base?.kind === 'adadelta' ? base : null;
  return { kind: 'adadelta', lr: firstLr, rho: c.rho ?? fallback!.rho, eps: c.eps ?? fallback!.eps };
}
