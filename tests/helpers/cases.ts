/**
 * The cases with known right answers in ../shared/cases (next to this repository): each folder
 * holds an input, the expected values with their tolerances, and the reference that made them.
 */
import { readFileSync } from 'node:fs';

const casesRoot = new URL('../../../shared/cases/', import.meta.url);

/** Parses `file` (input.json, expected.json, scenario.json) of the case folder `name`. */
export function readCase<T>(name: string, file: string): T {
  return JSON.parse(readFileSync(new URL(`${name}/${file}`, casesRoot), 'utf8')) as T;
}
