import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes that every job carries, so operators can filter jobs in the Temporal Web UI
 * (`JobType="echo" AND JobStatus="FAILED"`). They must be registered on the namespace before a job starts:
 * the dev stack passes them to `temporal server start-dev --search-attribute`.
 */
export const JobTypeKey = defineSearchAttributeKey('JobType', SearchAttributeType.KEYWORD);
export const JobStatusKey = defineSearchAttributeKey('JobStatus', SearchAttributeType.KEYWORD);
/**
 * Set at start on a run that re-runs a job (a retry, or a resubmission of a job that did not complete): the status
 * of the run it replaces, which is no longer the job. Listings and counts leave replaced runs out with it, so they
 * count jobs, not runs (a closed run's attributes cannot change, and SQL visibility has no GROUP BY on them).
 */
export const JobReplacesKey = defineSearchAttributeKey('JobReplaces', SearchAttributeType.KEYWORD);

/**
 * The tenant of the API key that submitted the job, set at start; absent on jobs started before tenants existed
 * (they belong to the default tenant). Listings, counts and in-flight caps filter on it.
 */
export const TenantKey = defineSearchAttributeKey('Tenant', SearchAttributeType.KEYWORD);

/** `Name=Type` pairs in the form the Temporal CLI takes them. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS = [
  `${JobTypeKey.name}=Keyword`,
  `${JobStatusKey.name}=Keyword`,
  `${JobReplacesKey.name}=Keyword`,
  `${TenantKey.name}=Keyword`,
] as const;
