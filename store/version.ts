import { readFileSync } from 'node:fs';
import { projectFile } from './project-files.ts';

/** The version from package.json, read once at start-up. */
export const STRATA_VERSION: string = (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string }).version;
