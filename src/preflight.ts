import net from 'node:net';

/**
 * Checks that PostgreSQL and Redis answer before anything starts, so a missing service is one
 * clear sentence with the command that starts it, not a stack trace from deep inside a client.
 */
export interface ServiceProblem {
  service: 'PostgreSQL' | 'Redis';
  address: string;
  hint: string;
}

const startHints = {
  PostgreSQL:
    'start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start ' +
    '(or point DATABASE_URL at a running server)',
  Redis:
    'start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" ' +
    '--appendonly no (or point REDIS_URL at a running server)',
} as const;

function reachable(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function findUnreachableServices(
  databaseUrl: string,
  redisUrl: string,
): Promise<ServiceProblem[]> {
  const targets = [
    { service: 'PostgreSQL' as const, url: new URL(databaseUrl), defaultPort: 5432 },
    { service: 'Redis' as const, url: new URL(redisUrl), defaultPort: 6379 },
  ];
  const problems: ServiceProblem[] = [];
  for (const { service, url, defaultPort } of targets) {
    const host = url.hostname || '127.0.0.1';
    const port = Number(url.port || defaultPort);
    if (!(await reachable(host, port))) {
      problems.push({ service, address: `${host}:${port}`, hint: startHints[service] });
    }
  }
  return problems;
}

export function describeProblems(problems: ServiceProblem[]): string {
  return problems.map((p) => `${p.service} is not reachable at ${p.address}; ${p.hint}`).join('\n');
}
