/**
 * Loads proto/knit/v1/knit.proto at run time with @grpc/proto-loader, with
 * the same options the type generator uses (package.json "build:proto"), so
 * the objects on the wire match the generated TypeScript types.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as grpcTypes from '@grpc/grpc-js';
import type { Options } from '@grpc/proto-loader';
import type { ProtoGrpcType } from './gen/knit';

/** Must agree with the flags of `proto-loader-gen-types` in package.json. */
export const LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

const PROTO_REL = path.join('proto', 'knit', 'v1', 'knit.proto');

/**
 * Finds knit.proto by walking up from this file: it sits at the repository
 * root both for agent/src/api (sources) and dist/agent/src/api (build).
 */
export function findProtoFile(from = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, PROTO_REL);
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find ${PROTO_REL} above ${from}; is knit installed completely?`);
    dir = up;
  }
}

/** The loaded knit.v1 package (service constructor and definitions). */
export function loadKnitProto(grpc: typeof grpcTypes, protoFile = findProtoFile()): ProtoGrpcType['knit']['v1'] {
  // Required here, not at the top: knitctl loads this module only when it
  // really talks gRPC, keeping its start-up light.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  const def = loader.loadSync(protoFile, LOADER_OPTIONS);
  return (grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType).knit.v1;
}
