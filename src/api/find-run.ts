import type { PrismaClient } from '../db/client.js';
import type { Run } from '../db/generated/client.js';
import { GanforgeError } from '../errors.js';

/** The run with this id; an unknown or malformed id is GANFORGE_ERR_RUN_NOT_FOUND. */
export async function findRun(prisma: PrismaClient, id: string): Promise<Run> {
  const run = await prisma.run.findUnique({ where: { id } });
  if (!run) throw new GanforgeError('GANFORGE_ERR_RUN_NOT_FOUND', `no run has id ${id}`, { id });
  return run;
}
