import type { FastifyBaseLogger } from 'fastify';
import type { Readable } from 'node:stream';
import { GanforgeError } from '../../errors.js';
import type { ArtifactStore } from '../../storage/artifacts.js';

/**
 * Opens a stored artifact for download. A row whose file is gone is a 404 that names the
 * artifact by its relative path only; where the store lives on disk stays in the log.
 */
export async function openArtifact(
  store: ArtifactStore,
  relativePath: string,
  log: FastifyBaseLogger,
): Promise<{ stream: Readable; bytes: number }> {
  try {
    return await store.open(relativePath);
  } catch (err) {
    log.warn({ err, path: relativePath }, 'artifact listed in the database is missing');
    throw new GanforgeError(
      'GANFORGE_ERR_ARTIFACT_NOT_FOUND',
      `artifact ${relativePath} is missing`,
    );
  }
}
