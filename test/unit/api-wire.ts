/**
 * Round-trips messages through the real protobuf codec of knit.proto (the
 * serializers gRPC uses), so tests see exactly what a client receives.
 */
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { LOADER_OPTIONS, findProtoFile } from '../../agent/src/api/proto';

const def = loadSync(findProtoFile(), LOADER_OPTIONS);
const service = def['knit.v1.Knit'] as unknown as Record<string, MethodDefinition<unknown, unknown>>;

/** Encodes `msg` as the response of `method` and decodes it again. */
export function viaWire<Out>(method: string, msg: unknown): Out {
  const m = service[method];
  if (m === undefined) throw new Error(`no method ${method}`);
  return m.responseDeserialize(m.responseSerialize(msg)) as Out;
}

/** Encodes `msg` as the request of `method`: its size in bytes. */
export function requestBytes(method: string, msg: unknown): number {
  return service[method].requestSerialize(msg).length;
}
