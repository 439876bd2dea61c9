import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The ```ts blocks of a markdown file, in order (from `after` on, when given). */
export function typescriptBlocks(markdownPath: string, after?: string): string[] {
  const markdown = readFileSync(markdownPath, 'utf8');
  const start = after === undefined ? 0 : markdown.indexOf(after);
  if (start < 0) throw new Error(`"${after}" not found in ${markdownPath}`);
  return [...markdown.slice(start).matchAll(/```ts\n([\s\S]*?)```/g)].map(
    (match) => match[1] ?? '',
  );
}

/**
 * Writes `code` into a scratch folder inside `packageDir` (so the workspace's
 * packages resolve as they would for a user), type-checks it strictly against the
 * built packages, runs it with tsx and returns what it printed. Docs examples
 * use it so they cannot rot.
 */
export function checkAndRun(code: string, packageDir: string, env: NodeJS.ProcessEnv = {}): string {
  return inScratchFolder(code, packageDir, (file) =>
    execFileSync(process.execPath, ['--import', 'tsx', file], runOptions(env)),
  );
}

/**
 * checkAndRun without blocking this process while the example runs: for
 * examples that talk to something living in this process's event loop (a
 * proxy, a fake server).
 */
export async function checkAndRunAsync(
  code: string,
  packageDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  return inScratchFolder(
    code,
    packageDir,
    (file) =>
      new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', file],
          runOptions(env),
          (error, stdout, stderr) => {
            if (error) reject(new Error(`The example failed: ${stderr || error.message}`));
            else resolve(stdout);
          },
        );
      }),
  );
}

const runOptions = (env: NodeJS.ProcessEnv) => ({
  cwd: repoRoot,
  encoding: 'utf8' as const,
  timeout: 90_000,
  env: { ...process.env, ...env },
});

/** Writes the example, type-checks it strictly, runs `run` on it, removes it (also after a rejection). */
function inScratchFolder<T>(code: string, packageDir: string, run: (file: string) => T): T {
  const folder = mkdtempSync(join(packageDir, 'test/readme/.example-'));
  const file = join(folder, 'example.ts');
  const cleanUp = () => rmSync(folder, { recursive: true, force: true });
  try {
    writeFileSync(file, code);
    typeCheck(file);
    const result = run(file);
    if (result instanceof Promise) return result.finally(cleanUp) as T;
    cleanUp();
    return result;
  } catch (error) {
    cleanUp();
    throw error;
  }
}

function typeCheck(file: string): void {
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  const options = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext'];
  options.push('--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck');
  try {
    execFileSync(process.execPath, [tsc, ...options, file], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (error) {
    throw new Error(
      `The example does not type-check:\n${(error as { stdout?: string }).stdout ?? error}`,
    );
  }
}
