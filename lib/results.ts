/**
 * Results as rows that line up with the reference table: a step's runs summarised as mean ± std,
 * one row format shared by the CLI, the benchmark and the notebooks.
 */
import type { MachineInfo } from './machine';
import type { Recipe, Reference } from './recipes';
import type { RunResult } from './train';
import { formatDuration, mean, std } from './timing';

/** One finished run, as recorded (the per-batch arrays of RunResult are left out). */
export interface RunRecord {
  seed: number;
  seconds: number;
  epochs: number;
  testAccuracy: number | null;
  validationAccuracy: number | null;
  partial: boolean;
}

/** A ledger entry: one step run n times on one backend and machine. */
export interface StepRecord {
  kind: 'step-result';
  version: 1;
  step: number;
  slug: string;
  change: string;
  backend: string;
  device: string;
  machine: MachineInfo;
  /** ISO time the record was made. */
  date: string;
  /** Who made it: 'cli', 'notebook', 'bench'. */
  source: string;
  /** Made on a small subset with a short budget (quick mode): never compared with full runs. */
  quick: boolean;
  /** Some run was interrupted: numbers cover only what finished. */
  partial: boolean;
  runs: RunRecord[];
  reference: Reference;
}

export function toRunRecord(result: RunResult): RunRecord {
  return {
    seed: result.seed,
    seconds: result.seconds,
    epochs: result.epochs,
    testAccuracy: result.testAccuracy,
    validationAccuracy: result.validationAccuracy,
    partial: result.partial,
  };
}

export interface StepRecordContext {
  backend: string;
  device: string;
  machine: MachineInfo;
  source: string;
  quick: boolean;
  date?: Date;
}

export function makeStepRecord(recipe: Recipe, results: readonly RunResult[], context: StepRecordContext): StepRecord {
  return {
    kind: 'step-result',
    version: 1,
    step: recipe.step,
    slug: recipe.slug,
    change: recipe.change,
    backend: context.backend,
    device: context.device,
    machine: context.machine,
    date: (context.date ?? new Date()).toISOString(),
    source: context.source,
    quick: context.quick,
    partial: results.some((r) => r.partial),
    runs: results.map(toRunRecord),
    reference: recipe.reference,
  };
}

export interface StepSummary {
  step: number;
  change: string;
  runs: number;
  secondsMean: number;
  secondsStd: number;
  epochsMean: number;
  accuracyMean: number;
  accuracyStd: number;
  partial: boolean;
}

export function summarize(record: Pick<StepRecord, 'step' | 'change' | 'runs' | 'partial'>): StepSummary {
  const seconds = record.runs.map((r) => r.seconds);
  const accuracies = record.runs.map((r) => r.testAccuracy).filter((a): a is number => a !== null);
  return {
    step: record.step,
    change: record.change,
    runs: record.runs.length,
    secondsMean: mean(seconds),
    secondsStd: std(seconds),
    epochsMean: mean(record.runs.map((r) => r.epochs)),
    accuracyMean: mean(accuracies),
    accuracyStd: std(accuracies),
    partial: record.partial,
  };
}

const COLUMNS = ['step', 'change', 'time (mean ± std)', 'epochs', 'test acc % (mean ± std)', 'runs', 'speed-up'] as const;

/** Table cells of one summary; speed-up is relative to `firstSeconds` (the first step run). */
export function summaryCells(summary: StepSummary, firstSeconds: number): string[] {
  const accuracy = Number.isNaN(summary.accuracyMean)
    ? 'n/a'
    : `${summary.accuracyMean.toFixed(2)} ± ${summary.accuracyStd.toFixed(2)}`;
  return [
    String(summary.step).padStart(2, '0') + (summary.partial ? '*' : ''),
    summary.change,
    `${formatDuration(summary.secondsMean * 1000)} ± ${formatDuration(summary.secondsStd * 1000)}`,
    Number.isInteger(summary.epochsMean) ? String(summary.epochsMean) : summary.epochsMean.toFixed(1),
    accuracy,
    String(summary.runs),
    `${(firstSeconds / summary.secondsMean).toFixed(1)}x`,
  ];
}

/** A plain-text table, columns padded to line up; '*' marks partial (interrupted) rows. */
export function formatSummaryTable(summaries: readonly StepSummary[]): string {
  if (summaries.length === 0) return '(no results)';
  const firstSeconds = summaries[0]!.secondsMean;
  const rows = [Array.from(COLUMNS), ...summaries.map((s) => summaryCells(s, firstSeconds))];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const lines = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  if (summaries.some((s) => s.partial)) lines.push('* interrupted: partial result');
  return lines.join('\n');
}

/** The line `--json` prints for each finished run. */
export function runJsonLine(result: RunResult): string {
  return JSON.stringify({
    step: result.step,
    backend: result.backend,
    seconds: Number(result.seconds.toFixed(4)),
    epochs: result.epochs,
    testAccuracy: result.testAccuracy === null ? null : Number(result.testAccuracy.toFixed(3)),
    seed: result.seed,
    partial: result.partial,
  });
}
