/**
 * The errors a user can meet, each with the CLI exit code it maps to. Messages are one line and
 * name the fix; the library and notebooks throw these, the CLI prints `error: <message>` and exits.
 */
export const EXIT_CODES = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  data: 3,
  backend: 4,
  diverged: 5,
  ledger: 6,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export class SpeedrunError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A bad option, recipe field or argument, caught before any work starts. */
export class UsageError extends SpeedrunError {
  constructor(message: string) {
    super(message, EXIT_CODES.usage);
  }
}

/** MNIST is missing, corrupt, foreign, or could not be downloaded; the message says where to put it. */
export class DataError extends SpeedrunError {
  constructor(message: string) {
    super(message, EXIT_CODES.data);
  }
}

/** Training produced a non-finite loss: the run is stopped instead of reporting an accuracy. */
export class DivergedError extends SpeedrunError {
  constructor(
    message: string,
    readonly at: { step: number; epoch: number; batch: number; learningRate: number },
  ) {
    super(message, EXIT_CODES.diverged);
  }
}

/** The results ledger could not be read or written. */
export class LedgerError extends SpeedrunError {
  constructor(message: string) {
    super(message, EXIT_CODES.ledger);
  }
}

/** The exit code for any thrown value: a SpeedrunError's own, else by the kind the message tells. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof SpeedrunError) return error.exitCode;
  if (error instanceof Error) {
    const known = (error as { exitCode?: unknown }).exitCode;
    if (typeof known === 'number' && (Object.values(EXIT_CODES) as number[]).includes(known)) {
      return known as ExitCode;
    }
    // lib functions throw RangeError for out-of-range arguments (unknown step, bad schedule step)
    if (error instanceof RangeError) return EXIT_CODES.usage;
  }
  return EXIT_CODES.unexpected;
}
