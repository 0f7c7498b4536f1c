/**
 * Where the project's files are, whether this code runs from its TypeScript sources (tsx,
 * vitest) or compiled into `dist/` (`npm start`, `npm run strata`): the compiled tree
 * mirrors the sources one folder down, and files read at run time by path stay in the
 * source tree, the single copy (`dist/` holds only JavaScript).
 */
const compiled = import.meta.url.endsWith('.js');

/** The project's root folder (where package.json is). */
export const PROJECT_ROOT = new URL(compiled ? '../../' : '../', import.meta.url);

/**
 * A file of the project by its path from the root.
 *
 * ```ts
 * readFileSync(projectFile('package.json'), 'utf8');
 * ```
 */
export function projectFile(path: string): URL {
  return new URL(path, PROJECT_ROOT);
}

/**
 * A module beside `from` (an `import.meta.url`), named without its extension, in the form
 * `from` runs in: `./name.ts` from the sources, `./name.js` compiled. For modules loaded by
 * path at run time rather than imported, such as a worker thread's entry module.
 *
 * ```ts
 * new Worker(siblingModule(import.meta.url, 'pglite-worker'));
 * ```
 */
export function siblingModule(from: string, name: string): URL {
  return new URL(`./${name}${from.endsWith('.js') ? '.js' : '.ts'}`, from);
}
