import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GanforgeError } from '../errors.js';

export interface StoredArtifact {
  /** Path relative to the store root, with forward slashes. */
  path: string;
  sha256: string;
  bytes: number;
}

/** Filesystem artifact store: checkpoints, sample grids, metric statistics. */
export class ArtifactStore {
  constructor(readonly root: string) {}

  resolve(relativePath: string): string {
    const full = path.resolve(this.root, relativePath);
    if (!full.startsWith(path.resolve(this.root) + path.sep)) {
      throw new GanforgeError('GANFORGE_ERR_NOT_FOUND', 'artifact path escapes the store');
    }
    return full;
  }

  /** Writes atomically (temp file, then rename) so a crash never leaves a half-written file. */
  async put(relativePath: string, data: Buffer): Promise<StoredArtifact> {
    const full = this.resolve(relativePath);
    await mkdir(path.dirname(full), { recursive: true });
    const temp = `${full}.${process.pid}.tmp`;
    await writeFile(temp, data);
    await rename(temp, full);
    const sha256 = createHash('sha256').update(data).digest('hex');
    return { path: relativePath, sha256, bytes: data.length };
  }

  async read(relativePath: string): Promise<Buffer> {
    try {
      return await readFile(this.resolve(relativePath));
    } catch (err) {
      throw missing(relativePath, err);
    }
  }

  async open(relativePath: string): Promise<{ stream: Readable; bytes: number }> {
    const full = this.resolve(relativePath);
    try {
      const info = await stat(full);
      return { stream: createReadStream(full), bytes: info.size };
    } catch (err) {
      throw missing(relativePath, err);
    }
  }
}

function missing(relativePath: string, cause: unknown): GanforgeError {
  return new GanforgeError(
    'GANFORGE_ERR_ARTIFACT_NOT_FOUND',
    `artifact ${relativePath} is missing`,
    {
      cause: String(cause),
    },
  );
}
