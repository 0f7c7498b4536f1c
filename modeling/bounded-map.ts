/**
 * A `Map` that holds at most `capacity` entries. Setting a new key when it is full forgets the
 * entry set longest ago; setting an existing key makes it the newest. With `refreshOnRead`,
 * reading a key makes it the newest too, so the map forgets the least recently used entry.
 * For the process's caches of bounded size (prepared documents, key hashes, compiled plans).
 *
 * ```ts
 * const plans = new BoundedMap<string, Plan>(1_000, { refreshOnRead: true });
 * plans.set(key, plan);
 * plans.get(key); // plan, now the newest
 * ```
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly #capacity: number;
  readonly #refreshOnRead: boolean;

  constructor(capacity: number, options: { readonly refreshOnRead?: boolean } = {}) {
    super();
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
    this.#refreshOnRead = options.refreshOnRead ?? false;
  }

  override get(key: K): V | undefined {
    const value = super.get(key);
    if (this.#refreshOnRead && value !== undefined) {
      super.delete(key);
      super.set(key, value);
    }
    return value;
  }

  override set(key: K, value: V): this {
    if (!super.delete(key) && this.size >= this.#capacity) super.delete(super.keys().next().value as K);
    return super.set(key, value);
  }
}
