/**
 * Starts `ganforge worker` (the real CLI command) as a child process, so a test can stop it the
 * way an operator does (SIGTERM) or kill it the way an operating system does (SIGKILL, no
 * clean-up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Process ids of the training sandboxes this worker started (from their log lines). */
  sandboxPids(): number[];
  /** SIGTERM, then waits for the worker to exit by itself. */
  stop(): Promise<void>;
  /** SIGKILL: the worker gets no chance to clean up. */
  kill(): Promise<void>;
}

export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
    cwd: projectRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  async function signal(name: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(name);
    await exited;
  }

  return {
    child,
    output: () => output,
    sandboxPids() {
      const pids = new Set<number>();
      for (const line of output.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { name?: string; pid?: number };
        if (entry.name === 'trainer' && entry.pid) pids.add(entry.pid);
      }
      return [...pids];
    },
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}

/** Whether a process with this id still exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
