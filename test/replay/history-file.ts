import proto from '@temporalio/proto';

type History = proto.temporal.api.history.v1.IHistory;
const { History } = proto.temporal.api.history.v1;

/**
 * How a recorded history is kept in a file: protobuf's own object form (int64 as strings, enums and bytes as
 * strings), read back with `History.fromObject` of @temporalio/proto. Not Temporal's JSON history format: reading
 * that needs `historyFromJSON` of @temporalio/common, which fails here ("type must be a Type") because npm installs
 * a protobufjs copy of its own under @temporalio/common and another under @temporalio/proto.
 */
export function historyToObject(history: History): unknown {
  return History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
}

export function historyFromObject(object: unknown): History {
  return History.fromObject(object as Record<string, unknown>);
}
