/**
 * Why a benchmark child process failed, in one line: its `error: ...` line (the CLI's form), else
 * the first line of an uncaught error (`SomeError: message`), not the tail of the stack trace and
 * of the error's properties that Node prints after it (which ends in a lone `}`).
 */
export function childFailureLine(stderr: string, stdout: string = ''): string {
  const lines = `${stderr}\n${stdout}`.split('\n').map((line) => line.trim());
  const cliLine = lines.find((line) => line.startsWith('error: '));
  if (cliLine !== undefined) return cliLine.slice('error: '.length);
  const uncaught = lines.find((line) => /^[A-Z]\w*(?:Error|Exception)(?: \[\w+\])?: /.test(line));
  return uncaught ?? lines.filter(Boolean).at(-1) ?? 'no output';
}
