// No zod here: the workflow bundle imports this module (readers.ts says why the workflow stays free of zod).

/** Longest progress message, in characters; a worker cuts longer ones (a longer one would void the heartbeat). */
export const MAX_PROGRESS_MESSAGE_CHARS = 2000;

/** Lines of `ctx.log` kept in each heartbeat: the newest ones. */
export const HEARTBEAT_LOG_LINES = 20;
/** Longest log line, in characters; longer lines are cut. */
export const MAX_LOG_LINE_CHARS = 2000;
/** Largest checkpoint, as JSON bytes: it travels in every heartbeat, so it must stay small. */
export const MAX_CHECKPOINT_BYTES = 256 * 1024;
