import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { childFailureLine } from '../bench/child-failure';

/** A real Node child that dies of an uncaught error carrying an exit code, as a bench variant does. */
function uncaughtChild(): { status: number | null; stderr: string; stdout: string } {
  const script = "class MnistNotFoundError extends Error { name = 'MnistNotFoundError' }; " +
    "console.log('started'); throw Object.assign(new MnistNotFoundError('MNIST folder /x lacks a.gz'), { exitCode: 3 });";
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
}

it('names an uncaught error by its first line, not the trailing } of its properties', () => {
  const child = uncaughtChild();
  assert.notEqual(child.status, 0);
  assert.match(child.stderr, /^}$/m, 'Node prints the error\'s properties after the stack');
  assert.equal(childFailureLine(child.stderr, child.stdout), 'MnistNotFoundError: MNIST folder /x lacks a.gz');
});

it("prefers the CLI's one-line `error:` message", () => {
  const child = spawnSync(process.execPath, ['-e', "process.stderr.write('warming up\\nerror: no MNIST here\\n'); process.exit(3)"], { encoding: 'utf8' });
  assert.equal(child.status, 3);
  assert.equal(childFailureLine(child.stderr, child.stdout), 'no MNIST here');
});
