/**
 * Sample sets as the metrics take them: one row per sample, row-major float64. Every metric checks
 * its inputs here first, so a malformed set fails with a coded error instead of a NaN score.
 */
import { GanforgeError } from '../errors.js';

export interface FeatureMatrix {
  rows: number;
  cols: number;
  /** rows * cols values, row after row. */
  data: Float64Array;
}

/** A FeatureMatrix from nested arrays (JSON), rejecting ragged rows. */
export function featureMatrix(
  rows: readonly (readonly number[])[],
  name = 'features',
): FeatureMatrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== cols) {
      throw new GanforgeError(
        'GANFORGE_ERR_METRIC_INPUT',
        `${name}: row ${i} is not ${cols} long`,
        {
          name,
          row: i,
        },
      );
    }
    const column = row.findIndex((value) => typeof value !== 'number');
    if (column >= 0) {
      throw new GanforgeError(
        'GANFORGE_ERR_METRIC_INPUT',
        `${name}: row ${i}, column ${column} is ${JSON.stringify(row[column])}, not a number`,
        { name, row: i, column },
      );
    }
    data.set(row, i * cols);
  });
  return assertFeatureMatrix({ rows: rows.length, cols, data }, name);
}

/** Checks the shape and that every value is finite; returns the matrix for chaining. */
export function assertFeatureMatrix(x: FeatureMatrix, name: string): FeatureMatrix {
  const { rows, cols, data } = x;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || cols < 1 || rows < 0) {
    throw new GanforgeError('GANFORGE_ERR_METRIC_INPUT', `${name}: shape ${rows} x ${cols}`, {
      name,
    });
  }
  if (data.length !== rows * cols) {
    throw new GanforgeError(
      'GANFORGE_ERR_METRIC_INPUT',
      `${name}: ${data.length} values for a ${rows} x ${cols} matrix`,
      { name },
    );
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new GanforgeError(
        'GANFORGE_ERR_METRIC_INPUT',
        `${name}: non-finite value at row ${Math.floor(i / cols)}`,
        { name, row: Math.floor(i / cols) },
      );
    }
  }
  return x;
}

export function assertMinimumRows(rows: number, minimum: number, name: string): void {
  if (!(rows >= minimum)) {
    throw new GanforgeError(
      'GANFORGE_ERR_METRIC_TOO_FEW_SAMPLES',
      `${name}: ${rows} samples, at least ${minimum} needed`,
      { name, rows, minimum },
    );
  }
}

export function assertSameDimensions(aCols: number, bCols: number): void {
  if (aCols !== bCols) {
    throw new GanforgeError(
      'GANFORGE_ERR_METRIC_DIMENSION_MISMATCH',
      `feature dimensions differ: ${aCols} and ${bCols}`,
      { a: aCols, b: bCols },
    );
  }
}

/** An option that must be a positive integer (splits, subsets, neighbours). */
export function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new GanforgeError('GANFORGE_ERR_METRIC_INPUT', `${name} must be a positive integer`, {
      name,
      value,
    });
  }
}
