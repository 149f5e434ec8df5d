/** @module Test helpers that damage card images the two ways people do: a hand edit of the JSON (checksum left stale), or a rewrite with the checksum recomputed. */
import { PersistentStore } from '../simulator/persistent-store.js';

type ImageJson = { records: Record<string, string>; [field: string]: unknown };

/** The image with its JSON edited as text would be by hand; the checksum is left as it was. */
export function editCardImage(image: Uint8Array, edit: (json: ImageJson) => void): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(image)) as ImageJson;
  edit(json);
  return new TextEncoder().encode(JSON.stringify(json, null, 1));
}

/** The image with a record changed and the checksum recomputed, as a careful tamperer would: only record validation can refuse it. */
export function rewriteCardImage(image: Uint8Array, change: (store: PersistentStore) => void): Uint8Array {
  const store = PersistentStore.fromImage(image);
  change(store);
  return store.toImage();
}
