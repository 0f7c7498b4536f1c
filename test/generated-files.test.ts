import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { generate, loadContext } from '@graphql-codegen/cli';
import { printSortedSchema } from '../resolvers/schema.ts';
import { placementsForClient } from '../api/placements-for-client.ts';

const STALE = 'out of date: run `npm run codegen` and commit the result';

describe('generated files', () => {
  it('codegen/schema.graphql is the printed schema', async () => {
    const checkedIn = await readFile('codegen/schema.graphql', 'utf8');
    expect(checkedIn, `codegen/schema.graphql is ${STALE}`).toBe(printSortedSchema());
  });

  it('codegen/placements.json lists the bundled placements the typed client tracks', async () => {
    const checkedIn = await readFile('codegen/placements.json', 'utf8');
    expect(checkedIn, `codegen/placements.json is ${STALE}`).toBe(placementsForClient());
  });

  it('codegen/generated matches what graphql-codegen produces from codegen.yml', async () => {
    const outputs = (await generate(await loadContext('codegen.yml'), false)) as {
      filename: string;
      content: string;
    }[];
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const checkedIn = await readFile(output.filename, 'utf8').catch(() => '(missing)');
      expect(checkedIn, `${output.filename} is ${STALE}`).toBe(output.content);
    }
  });
});
