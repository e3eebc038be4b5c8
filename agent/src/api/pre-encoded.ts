/**
 * Answers encoded once and sent many times. ListEndpoints returns every
 * endpoint of the node (100 endpoints: ~20 KB); converting and protobuf-
 * encoding that per call made it the API's most expensive unary call under
 * load (docs/benchmarks.md). The server keeps the encoded answer while the
 * endpoint set does not change and hands grpc-js the bytes: the method's
 * serializer passes a PreEncoded through untouched.
 */
import type * as grpc from '@grpc/grpc-js';

/** Bytes already in the method's wire format. */
export class PreEncoded {
  constructor(readonly bytes: Buffer) {}
}

/** `service` with `method`'s response serializer accepting PreEncoded answers as they are. */
export function withPreEncoded(service: grpc.ServiceDefinition, method: string): grpc.ServiceDefinition {
  const def = service[method];
  if (def === undefined) throw new Error(`no method ${method} in the service definition`);
  const serialize = def.responseSerialize;
  return {
    ...service,
    [method]: { ...def, responseSerialize: (res: unknown) => (res instanceof PreEncoded ? res.bytes : serialize(res)) },
  };
}
