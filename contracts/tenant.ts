import { z } from 'zod';

/**
 * The tenant of every API key that names none, and of every job started before tenants existed (those carry no
 * `Tenant` search attribute). Its job ids are computed as they always were, so existing jobs stay deduplicated.
 */
export const DEFAULT_TENANT = 'default';

/** A tenant name: lower-case letters, digits, `_` and `-`, as it appears in keys, limits and the search attribute. */
export const TenantNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/);
