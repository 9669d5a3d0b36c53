import { ApplicationFailure } from '@temporalio/activity';
import { FailureTypes } from '../protocol/failures.js';
import type { BlobStoreMarker } from '../protocol/blobs.js';
import type { BlobStore } from '../storage/blob-store.js';
import { checkedStore, storeMismatch } from '../storage/store-marker.js';

/**
 * The worker's blob store, checked against the API's marker that a job carries: an attempt's first blob read or
 * write fails it `BlobStoreMismatch` when this worker cannot see the API's store. No store or no marker: as is.
 */
export function createStoreCheck(deps: {
  store: BlobStore | undefined;
  workerId: string;
  print: (line: string) => void;
}): (marker: BlobStoreMarker | undefined) => BlobStore | undefined {
  // One read of each API marker per process: the answer does not change while the worker runs.
  const markerChecks = new Map<string, Promise<string | undefined>>();
  return (marker) => {
    const store = deps.store;
    if (!store || !marker) return store;
    return checkedStore(store, async () => {
      let check = markerChecks.get(marker.token);
      if (!check) {
        check = storeMismatch(store, marker);
        markerChecks.set(marker.token, check);
        const problem = await check;
        if (problem) deps.print(`worker ${deps.workerId}: ${problem}`);
      }
      const problem = await check;
      if (problem) throw ApplicationFailure.nonRetryable(problem, FailureTypes.blobStoreMismatch);
    });
  };
}
