import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes that every job carries, so operators can filter jobs in the Temporal Web UI
 * (`JobType="echo" AND JobStatus="FAILED"`). They must be registered on the namespace before a job starts:
 * the dev stack passes them to `temporal server start-dev --search-attribute`.
 */
export const JobTypeKey = defineSearchAttributeKey('JobType', SearchAttributeType.KEYWORD);
export const JobStatusKey = defineSearchAttributeKey('JobStatus', SearchAttributeType.KEYWORD);

/** `Name=Type` pairs in the form the Temporal CLI takes them. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS = [`${JobTypeKey.name}=Keyword`, `${JobStatusKey.name}=Keyword`] as const;
