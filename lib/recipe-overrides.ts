/**
 * "Your turn": a step's recipe with a few fields changed, typed as `field=value` text
 * (`batchSize=512`, `schedule.maxLr=0.02`, `stopAtAccuracy=none`). Only known fields, each value
 * typed and range-checked, nested fields only where the recipe's kind has them; the changed recipe
 * is then checked as a whole (lib/options.ts validateRecipe). Every refusal is one line naming the
 * field, what was typed and what is allowed.
 *
 * `net.*` fields change the step's net as data (lib/nets.ts): `net.c1.out=16`, `net.fc=128`,
 * `net.c2.pool=before-relu`; the named net (the step's, or `net=` given in the same try) is turned
 * into its spec with those fields changed, and a net whose maps would not fit 28x28 is refused.
 *
 * A changed recipe is not the step's recipe: its hash differs, and its records carry the
 * overrides and live in a `tries/` folder, so they never enter the step's comparisons or ladder.
 */
import { didYouMean } from './did-you-mean';
import { UsageError } from './errors';
import { convName, copyNetSpec, ladderNameOf, MAX_CONVS, netLabel, netSpec, POOL_PLACEMENTS, type NetSpec } from './nets';
import { validateRecipe } from './options';
import { NET_NAMES, type Recipe } from './recipes';

type Kind = 'positive-integer' | 'positive-number' | 'unit-interval' | 'accuracy-or-none' | 'boolean' | readonly string[];

interface FieldRule {
  kind: Kind;
  /** The optimizer or schedule kind the field belongs to (for optimizer.* and schedule.* fields). */
  only?: { of: 'optimizer' | 'schedule'; kinds: readonly string[] };
}

/** Every field a try may change, with the type of its value. */
export const OVERRIDE_FIELDS: Readonly<Record<string, FieldRule>> = {
  batchSize: { kind: 'positive-integer' },
  epochs: { kind: 'positive-integer' },
  net: { kind: NET_NAMES },
  dataPath: { kind: ['per-sample', 'device'] },
  shuffle: { kind: ['every-epoch', 'once'] },
  dropLast: { kind: 'boolean' },
  evaluate: { kind: ['every-epoch', 'end'] },
  stopAtAccuracy: { kind: 'accuracy-or-none' },
  labelSmoothing: { kind: 'unit-interval' },
  'optimizer.lr': { kind: 'positive-number' },
  'optimizer.eps': { kind: 'positive-number' },
  'optimizer.rho': { kind: 'unit-interval', only: { of: 'optimizer', kinds: ['adadelta'] } },
  'optimizer.beta1': { kind: 'unit-interval', only: { of: 'optimizer', kinds: ['adam'] } },
  'optimizer.beta2': { kind: 'unit-interval', only: { of: 'optimizer', kinds: ['adam'] } },
  'schedule.maxLr': { kind: 'positive-number', only: { of: 'schedule', kinds: ['onecycle'] } },
  'schedule.pctStart': { kind: 'unit-interval', only: { of: 'schedule', kinds: ['onecycle'] } },
  'schedule.divFactor': { kind: 'positive-number', only: { of: 'schedule', kinds: ['onecycle'] } },
  'schedule.finalDivFactor': { kind: 'positive-number', only: { of: 'schedule', kinds: ['onecycle'] } },
  'schedule.anneal': { kind: ['cos', 'linear'], only: { of: 'schedule', kinds: ['onecycle'] } },
  'schedule.stepSize': { kind: 'positive-integer', only: { of: 'schedule', kinds: ['step'] } },
  'schedule.gamma': { kind: 'positive-number', only: { of: 'schedule', kinds: ['step'] } },
  ...convFields(),
  'net.dropout2d': { kind: 'unit-interval' },
  'net.fc': { kind: 'positive-integer' },
  'net.dropout': { kind: 'unit-interval' },
};

/** net.c1.out, net.c1.kernel, net.c1.pool, net.c1.relu, ... for every conv a net may have. */
function convFields(): Record<string, FieldRule> {
  const fields: Record<string, FieldRule> = {};
  for (let i = 0; i < MAX_CONVS; i++) {
    const c = convName(i);
    fields[`net.${c}.out`] = { kind: 'positive-integer' };
    fields[`net.${c}.kernel`] = { kind: 'positive-integer' };
    fields[`net.${c}.pool`] = { kind: POOL_PLACEMENTS };
    fields[`net.${c}.relu`] = { kind: 'boolean' };
  }
  return fields;
}

export const OVERRIDE_FIELD_NAMES: readonly string[] = Object.keys(OVERRIDE_FIELDS);

export type OverrideValue = number | string | boolean | null;

export interface AppliedOverrides {
  recipe: Recipe;
  /** [field, before, after] for each field whose value changed, as JSON text. */
  changed: Array<[string, string, string]>;
  /** The overrides as given, field -> value text (what a record saves). */
  overrides: Record<string, string>;
}

function refuse(field: string, text: string, allowed: string): never {
  throw new UsageError(`${field}=${text} is not allowed: ${field} takes ${allowed}`);
}

/** The typed value of `text` for `field`, or a UsageError naming what it takes. */
export function parseOverrideValue(field: string, text: string): OverrideValue {
  const rule = OVERRIDE_FIELDS[field];
  if (rule === undefined) throw unknownField(field);
  const kind = rule.kind;
  const value = text.trim();
  if (typeof kind !== 'string') {
    if (!kind.includes(value)) refuse(field, text, `one of ${kind.join(', ')}`);
    return value;
  }
  if (kind === 'boolean') {
    if (value === 'true' || value === 'false') return value === 'true';
    refuse(field, text, 'true or false');
  }
  if (kind === 'accuracy-or-none' && value === 'none') return null;
  // plain decimal numbers only: '', '0x10', 'Infinity' and '1,5' are refused
  const number = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? Number(value) : Number.NaN;
  switch (kind) {
    case 'positive-integer':
      if (!Number.isSafeInteger(number) || number <= 0) refuse(field, text, 'a whole number above 0');
      return number;
    case 'positive-number':
      if (!Number.isFinite(number) || number <= 0) refuse(field, text, 'a finite number above 0');
      return number;
    case 'unit-interval':
      if (!Number.isFinite(number) || number < 0 || number >= 1) refuse(field, text, 'a number from 0 up to (not including) 1');
      return number;
    case 'accuracy-or-none':
      if (!Number.isFinite(number) || number <= 0 || number > 100) refuse(field, text, "a test accuracy in percent above 0 and at most 100, or 'none' (train every epoch)");
      return number;
  }
}

function unknownField(field: string): UsageError {
  return new UsageError(`'${field}' is not a recipe field a try can change${didYouMean(field, OVERRIDE_FIELD_NAMES)}: fields are ${OVERRIDE_FIELD_NAMES.join(', ')}`);
}

/** 'batchSize=512' -> ['batchSize', '512']; a UsageError without '=' or with an empty side. */
export function splitOverride(text: string): [string, string] {
  const eq = text.indexOf('=');
  const field = eq < 0 ? '' : text.slice(0, eq).trim();
  const value = eq < 0 ? '' : text.slice(eq + 1).trim();
  if (field === '' || value === '') throw new UsageError(`'${text}' is not a change: write field=value, such as batchSize=512 or schedule.maxLr=0.02`);
  return [field, value];
}

/** The overrides as field -> value text, from `field=value` strings or an object; a field given twice is refused. */
export function overrideEntries(overrides: Readonly<Record<string, string | number>> | readonly string[]): Array<[string, string]> {
  const entries: Array<[string, string]> = Array.isArray(overrides)
    ? (overrides as readonly string[]).map(splitOverride)
    : Object.entries(overrides as Readonly<Record<string, string | number>>).map(([field, value]) => [field, String(value).trim()]);
  const seen = new Set<string>();
  for (const [field, value] of entries) {
    if (seen.has(field)) throw new UsageError(`${field} is changed twice: give each field once`);
    seen.add(field);
    if (value === '') throw new UsageError(`${field} has no value: write ${field}=VALUE`);
  }
  return entries;
}

/** `recipe` with one field of its net set: the net becomes a spec (a copy; the ladder's are untouched). */
function withNetField(recipe: Recipe, field: string, value: OverrideValue): Recipe {
  const spec = copyNetSpec(netSpec(recipe.net));
  const path = field.split('.').slice(1);
  if (path.length === 1) return { ...recipe, net: { ...spec, [path[0]!]: value } };
  const [layer, key] = path as [string, keyof NetSpec['convs'][number]];
  const index = Number(layer.slice(1)) - 1;
  const conv = spec.convs[index];
  if (conv === undefined) {
    const has = spec.convs.map((_, i) => convName(i)).join(', ');
    throw new UsageError(`${field} is not a layer of step ${recipe.step}'s net (${netLabel(recipe.net)}): it has ${spec.convs.length} convolution${spec.convs.length === 1 ? '' : 's'}, ${has}`);
  }
  spec.convs[index] = { ...conv, [key]: value };
  return { ...recipe, net: spec };
}

/** The value of a `net.*` field in `recipe`'s net, named or spec. */
function netValueAt(recipe: Recipe, field: string): unknown {
  return field.split('.').slice(1).reduce<unknown>((at, key) => {
    if (at === undefined) return undefined;
    if (Array.isArray((at as NetSpec).convs) && /^c\d+$/.test(key)) return (at as NetSpec).convs[Number(key.slice(1)) - 1];
    return (at as Record<string, unknown>)[key];
  }, netSpec(recipe.net));
}

/** `recipe` with one field set (a copy; nested objects copied too). */
function withField(recipe: Recipe, field: string, value: OverrideValue): Recipe {
  const rule = OVERRIDE_FIELDS[field]!;
  const [head, tail] = field.split('.') as [string, string | undefined];
  if (field === 'labelSmoothing' && value === 0) {
    // 0 is what an absent field means: the same recipe, the same hash as steps 1-8
    const { labelSmoothing: _, ...rest } = recipe;
    return rest;
  }
  if (tail === undefined) return { ...recipe, [head]: value } as Recipe;
  if (head === 'net') return withNetField(recipe, field, value);
  const part = head === 'optimizer' ? recipe.optimizer : recipe.schedule;
  if (rule.only !== undefined && !rule.only.kinds.includes(part.kind)) {
    throw new UsageError(
      `${field} is not a field of step ${recipe.step}'s ${head} ('${part.kind}'): it belongs to ${rule.only.kinds.map((k) => `'${k}'`).join(' or ')} only`,
    );
  }
  if (field === 'optimizer.lr' && recipe.schedule.kind === 'onecycle') {
    throw new UsageError(`optimizer.lr does nothing in step ${recipe.step}: its one-cycle schedule sets the learning rate every batch; change schedule.maxLr instead`);
  }
  return { ...recipe, [head]: { ...part, [tail]: value } } as Recipe;
}

function valueAt(recipe: Recipe, field: string): unknown {
  if (field.startsWith('net.')) return netValueAt(recipe, field);
  if (field === 'labelSmoothing') return recipe.labelSmoothing ?? 0;
  return field.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], recipe);
}

/**
 * `recipe` with `overrides` applied, checked field by field and then as a whole; `changed` lists
 * the fields whose value differs from the recipe's. The recipe's `change` says what was tried.
 */
export function applyOverrides(recipe: Recipe, overrides: Readonly<Record<string, string | number>> | readonly string[]): AppliedOverrides {
  const entries = overrideEntries(overrides);
  let next = recipe;
  const changed: Array<[string, string, string]> = [];
  const values = entries.map(([field, text]): [string, OverrideValue] => [field, parseOverrideValue(field, text)]);
  // `net=` first: the net.* fields change the net it names, whatever order they were typed in
  for (const [field, value] of [...values.filter(([f]) => f === 'net'), ...values.filter(([f]) => f !== 'net')]) {
    next = withField(next, field, value);
  }
  for (const [field, value] of values) {
    const before = JSON.stringify(valueAt(recipe, field));
    const after = JSON.stringify(value);
    if (before !== after) changed.push([field, before, after]);
  }
  // a net changed back to one of the ladder's is named again: the same net, the same recipe hash
  if (typeof next.net !== 'string') next = { ...next, net: ladderNameOf(next.net) ?? next.net };
  try {
    validateRecipe(next);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`${entries.map(([f, v]) => `${f}=${v}`).join(' ')} cannot be trained: ${error.message}`);
  }
  const what = changed.length === 0 ? 'unchanged' : changed.map(([field, , after]) => `${field} ${after}`).join(', ');
  return {
    recipe: { ...next, change: `your try of step ${recipe.step}: ${what}` },
    changed,
    overrides: Object.fromEntries(entries),
  };
}
