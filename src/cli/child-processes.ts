/**
 * Runs `api` and `worker` as two child processes of this CLI, as `dev` and `demo` do on one
 * machine. Separate processes, because a training step holds its event loop for up to seconds and
 * the API must keep answering meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export interface ChildGroup {
  children: ChildProcess[];
  /** Resolves with the first child that exits, and its exit code. */
  firstExit: Promise<{ name: string; code: number | null }>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Write each child's output to `<logDir>/<command>.log` instead of this terminal. */
  logDir?: string;
  env?: NodeJS.ProcessEnv;
}

export async function spawnCommands(
  commands: string[],
  options: SpawnOptions = {},
): Promise<ChildGroup> {
  if (options.logDir) await mkdir(options.logDir, { recursive: true });
  // Re-run this same entry point the way it was started (node dist/cli.js, or tsx src/cli.ts).
  const entry = process.argv[1];
  const children = commands.map((command) => {
    const child = spawn(process.execPath, [...process.execArgv, entry, command], {
      env: { ...process.env, ...options.env },
      stdio: options.logDir ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    if (options.logDir) {
      const log = createWriteStream(path.join(options.logDir, `${command}.log`), { flags: 'a' });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
    }
    return Object.assign(child, { commandName: command });
  });

  const firstExit = new Promise<{ name: string; code: number | null }>((resolve) => {
    for (const child of children) {
      child.once('exit', (code) => resolve({ name: child.commandName, code }));
    }
  });

  return {
    children,
    firstExit,
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
              child.once('exit', () => {
                clearTimeout(force);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
