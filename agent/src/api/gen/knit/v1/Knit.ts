// Original file: proto/knit/v1/knit.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Endpoint as _knit_v1_Endpoint, Endpoint__Output as _knit_v1_Endpoint__Output } from '../../knit/v1/Endpoint';
import type { GetEndpointRequest as _knit_v1_GetEndpointRequest, GetEndpointRequest__Output as _knit_v1_GetEndpointRequest__Output } from '../../knit/v1/GetEndpointRequest';
import type { GetNodeRequest as _knit_v1_GetNodeRequest, GetNodeRequest__Output as _knit_v1_GetNodeRequest__Output } from '../../knit/v1/GetNodeRequest';
import type { ListBgpRoutesRequest as _knit_v1_ListBgpRoutesRequest, ListBgpRoutesRequest__Output as _knit_v1_ListBgpRoutesRequest__Output } from '../../knit/v1/ListBgpRoutesRequest';
import type { ListBgpRoutesResponse as _knit_v1_ListBgpRoutesResponse, ListBgpRoutesResponse__Output as _knit_v1_ListBgpRoutesResponse__Output } from '../../knit/v1/ListBgpRoutesResponse';
import type { ListBgpSessionsRequest as _knit_v1_ListBgpSessionsRequest, ListBgpSessionsRequest__Output as _knit_v1_ListBgpSessionsRequest__Output } from '../../knit/v1/ListBgpSessionsRequest';
import type { ListBgpSessionsResponse as _knit_v1_ListBgpSessionsResponse, ListBgpSessionsResponse__Output as _knit_v1_ListBgpSessionsResponse__Output } from '../../knit/v1/ListBgpSessionsResponse';
import type { ListEndpointsRequest as _knit_v1_ListEndpointsRequest, ListEndpointsRequest__Output as _knit_v1_ListEndpointsRequest__Output } from '../../knit/v1/ListEndpointsRequest';
import type { ListEndpointsResponse as _knit_v1_ListEndpointsResponse, ListEndpointsResponse__Output as _knit_v1_ListEndpointsResponse__Output } from '../../knit/v1/ListEndpointsResponse';
import type { ListPeersRequest as _knit_v1_ListPeersRequest, ListPeersRequest__Output as _knit_v1_ListPeersRequest__Output } from '../../knit/v1/ListPeersRequest';
import type { ListPeersResponse as _knit_v1_ListPeersResponse, ListPeersResponse__Output as _knit_v1_ListPeersResponse__Output } from '../../knit/v1/ListPeersResponse';
import type { ListSubnetsRequest as _knit_v1_ListSubnetsRequest, ListSubnetsRequest__Output as _knit_v1_ListSubnetsRequest__Output } from '../../knit/v1/ListSubnetsRequest';
import type { ListSubnetsResponse as _knit_v1_ListSubnetsResponse, ListSubnetsResponse__Output as _knit_v1_ListSubnetsResponse__Output } from '../../knit/v1/ListSubnetsResponse';
import type { Node as _knit_v1_Node, Node__Output as _knit_v1_Node__Output } from '../../knit/v1/Node';
import type { WatchEvent as _knit_v1_WatchEvent, WatchEvent__Output as _knit_v1_WatchEvent__Output } from '../../knit/v1/WatchEvent';
import type { WatchRequest as _knit_v1_WatchRequest, WatchRequest__Output as _knit_v1_WatchRequest__Output } from '../../knit/v1/WatchRequest';

/**
 * The operator service of one knitd.
 */
export interface KnitClient extends grpc.Client {
  /**
   * One container attachment; NOT_FOUND when the container has none.
   */
  GetEndpoint(argument: _knit_v1_GetEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  GetEndpoint(argument: _knit_v1_GetEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  GetEndpoint(argument: _knit_v1_GetEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  GetEndpoint(argument: _knit_v1_GetEndpointRequest, callback: grpc.requestCallback<_knit_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  /**
   * One container attachment; NOT_FOUND when the container has none.
   */
  getEndpoint(argument: _knit_v1_GetEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  getEndpoint(argument: _knit_v1_GetEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  getEndpoint(argument: _knit_v1_GetEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  getEndpoint(argument: _knit_v1_GetEndpointRequest, callback: grpc.requestCallback<_knit_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  
  /**
   * This node: lease, backend device, MTU, health, readiness, versions.
   */
  GetNode(argument: _knit_v1_GetNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Node__Output>): grpc.ClientUnaryCall;
  GetNode(argument: _knit_v1_GetNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Node__Output>): grpc.ClientUnaryCall;
  GetNode(argument: _knit_v1_GetNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Node__Output>): grpc.ClientUnaryCall;
  GetNode(argument: _knit_v1_GetNodeRequest, callback: grpc.requestCallback<_knit_v1_Node__Output>): grpc.ClientUnaryCall;
  /**
   * This node: lease, backend device, MTU, health, readiness, versions.
   */
  getNode(argument: _knit_v1_GetNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Node__Output>): grpc.ClientUnaryCall;
  getNode(argument: _knit_v1_GetNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Node__Output>): grpc.ClientUnaryCall;
  getNode(argument: _knit_v1_GetNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Node__Output>): grpc.ClientUnaryCall;
  getNode(argument: _knit_v1_GetNodeRequest, callback: grpc.requestCallback<_knit_v1_Node__Output>): grpc.ClientUnaryCall;
  
  /**
   * Routes learned over BGP; FAILED_PRECONDITION when BGP is not enabled.
   */
  ListBgpRoutes(argument: _knit_v1_ListBgpRoutesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListBgpRoutesResponse__Output>): grpc.ClientUnaryCall;
  ListBgpRoutes(argument: _knit_v1_ListBgpRoutesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListBgpRoutesResponse__Output>): grpc.ClientUnaryCall;
  ListBgpRoutes(argument: _knit_v1_ListBgpRoutesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListBgpRoutesResponse__Output>): grpc.ClientUnaryCall;
  ListBgpRoutes(argument: _knit_v1_ListBgpRoutesRequest, callback: grpc.requestCallback<_knit_v1_ListBgpRoutesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Routes learned over BGP; FAILED_PRECONDITION when BGP is not enabled.
   */
  listBgpRoutes(argument: _knit_v1_ListBgpRoutesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListBgpRoutesResponse__Output>): grpc.ClientUnaryCall;
  listBgpRoutes(argument: _knit_v1_ListBgpRoutesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListBgpRoutesResponse__Output>): grpc.ClientUnaryCall;
  listBgpRoutes(argument: _knit_v1_ListBgpRoutesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListBgpRoutesResponse__Output>): grpc.ClientUnaryCall;
  listBgpRoutes(argument: _knit_v1_ListBgpRoutesRequest, callback: grpc.requestCallback<_knit_v1_ListBgpRoutesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * BGP sessions; FAILED_PRECONDITION when BGP is not enabled.
   */
  ListBgpSessions(argument: _knit_v1_ListBgpSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListBgpSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListBgpSessions(argument: _knit_v1_ListBgpSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListBgpSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListBgpSessions(argument: _knit_v1_ListBgpSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListBgpSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListBgpSessions(argument: _knit_v1_ListBgpSessionsRequest, callback: grpc.requestCallback<_knit_v1_ListBgpSessionsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * BGP sessions; FAILED_PRECONDITION when BGP is not enabled.
   */
  listBgpSessions(argument: _knit_v1_ListBgpSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListBgpSessionsResponse__Output>): grpc.ClientUnaryCall;
  listBgpSessions(argument: _knit_v1_ListBgpSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListBgpSessionsResponse__Output>): grpc.ClientUnaryCall;
  listBgpSessions(argument: _knit_v1_ListBgpSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListBgpSessionsResponse__Output>): grpc.ClientUnaryCall;
  listBgpSessions(argument: _knit_v1_ListBgpSessionsRequest, callback: grpc.requestCallback<_knit_v1_ListBgpSessionsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Container attachments on this node.
   */
  ListEndpoints(argument: _knit_v1_ListEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _knit_v1_ListEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _knit_v1_ListEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _knit_v1_ListEndpointsRequest, callback: grpc.requestCallback<_knit_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Container attachments on this node.
   */
  listEndpoints(argument: _knit_v1_ListEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _knit_v1_ListEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _knit_v1_ListEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _knit_v1_ListEndpointsRequest, callback: grpc.requestCallback<_knit_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Per peer, the kernel objects knit programmed and whether each matches.
   */
  ListPeers(argument: _knit_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _knit_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _knit_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _knit_v1_ListPeersRequest, callback: grpc.requestCallback<_knit_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Per peer, the kernel objects knit programmed and whether each matches.
   */
  listPeers(argument: _knit_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _knit_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _knit_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _knit_v1_ListPeersRequest, callback: grpc.requestCallback<_knit_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Every subnet lease known from etcd (in single-node mode: this node's only).
   */
  ListSubnets(argument: _knit_v1_ListSubnetsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListSubnetsResponse__Output>): grpc.ClientUnaryCall;
  ListSubnets(argument: _knit_v1_ListSubnetsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListSubnetsResponse__Output>): grpc.ClientUnaryCall;
  ListSubnets(argument: _knit_v1_ListSubnetsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListSubnetsResponse__Output>): grpc.ClientUnaryCall;
  ListSubnets(argument: _knit_v1_ListSubnetsRequest, callback: grpc.requestCallback<_knit_v1_ListSubnetsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Every subnet lease known from etcd (in single-node mode: this node's only).
   */
  listSubnets(argument: _knit_v1_ListSubnetsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListSubnetsResponse__Output>): grpc.ClientUnaryCall;
  listSubnets(argument: _knit_v1_ListSubnetsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListSubnetsResponse__Output>): grpc.ClientUnaryCall;
  listSubnets(argument: _knit_v1_ListSubnetsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListSubnetsResponse__Output>): grpc.ClientUnaryCall;
  listSubnets(argument: _knit_v1_ListSubnetsRequest, callback: grpc.requestCallback<_knit_v1_ListSubnetsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A snapshot first, then one event per change. A client that does not keep
   * up is dropped with RESOURCE_EXHAUSTED and should call Watch again.
   */
  Watch(argument: _knit_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_knit_v1_WatchEvent__Output>;
  Watch(argument: _knit_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_knit_v1_WatchEvent__Output>;
  /**
   * A snapshot first, then one event per change. A client that does not keep
   * up is dropped with RESOURCE_EXHAUSTED and should call Watch again.
   */
  watch(argument: _knit_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_knit_v1_WatchEvent__Output>;
  watch(argument: _knit_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_knit_v1_WatchEvent__Output>;
  
}

/**
 * The operator service of one knitd.
 */
export interface KnitHandlers extends grpc.UntypedServiceImplementation {
  /**
   * One container attachment; NOT_FOUND when the container has none.
   */
  GetEndpoint: grpc.handleUnaryCall<_knit_v1_GetEndpointRequest__Output, _knit_v1_Endpoint>;
  
  /**
   * This node: lease, backend device, MTU, health, readiness, versions.
   */
  GetNode: grpc.handleUnaryCall<_knit_v1_GetNodeRequest__Output, _knit_v1_Node>;
  
  /**
   * Routes learned over BGP; FAILED_PRECONDITION when BGP is not enabled.
   */
  ListBgpRoutes: grpc.handleUnaryCall<_knit_v1_ListBgpRoutesRequest__Output, _knit_v1_ListBgpRoutesResponse>;
  
  /**
   * BGP sessions; FAILED_PRECONDITION when BGP is not enabled.
   */
  ListBgpSessions: grpc.handleUnaryCall<_knit_v1_ListBgpSessionsRequest__Output, _knit_v1_ListBgpSessionsResponse>;
  
  /**
   * Container attachments on this node.
   */
  ListEndpoints: grpc.handleUnaryCall<_knit_v1_ListEndpointsRequest__Output, _knit_v1_ListEndpointsResponse>;
  
  /**
   * Per peer, the kernel objects knit programmed and whether each matches.
   */
  ListPeers: grpc.handleUnaryCall<_knit_v1_ListPeersRequest__Output, _knit_v1_ListPeersResponse>;
  
  /**
   * Every subnet lease known from etcd (in single-node mode: this node's only).
   */
  ListSubnets: grpc.handleUnaryCall<_knit_v1_ListSubnetsRequest__Output, _knit_v1_ListSubnetsResponse>;
  
  /**
   * A snapshot first, then one event per change. A client that does not keep
   * up is dropped with RESOURCE_EXHAUSTED and should call Watch again.
   */
  Watch: grpc.handleServerStreamingCall<_knit_v1_WatchRequest__Output, _knit_v1_WatchEvent>;
  
}

export interface KnitDefinition extends grpc.ServiceDefinition {
  GetEndpoint: MethodDefinition<_knit_v1_GetEndpointRequest, _knit_v1_Endpoint, _knit_v1_GetEndpointRequest__Output, _knit_v1_Endpoint__Output>
  GetNode: MethodDefinition<_knit_v1_GetNodeRequest, _knit_v1_Node, _knit_v1_GetNodeRequest__Output, _knit_v1_Node__Output>
  ListBgpRoutes: MethodDefinition<_knit_v1_ListBgpRoutesRequest, _knit_v1_ListBgpRoutesResponse, _knit_v1_ListBgpRoutesRequest__Output, _knit_v1_ListBgpRoutesResponse__Output>
  ListBgpSessions: MethodDefinition<_knit_v1_ListBgpSessionsRequest, _knit_v1_ListBgpSessionsResponse, _knit_v1_ListBgpSessionsRequest__Output, _knit_v1_ListBgpSessionsResponse__Output>
  ListEndpoints: MethodDefinition<_knit_v1_ListEndpointsRequest, _knit_v1_ListEndpointsResponse, _knit_v1_ListEndpointsRequest__Output, _knit_v1_ListEndpointsResponse__Output>
  ListPeers: MethodDefinition<_knit_v1_ListPeersRequest, _knit_v1_ListPeersResponse, _knit_v1_ListPeersRequest__Output, _knit_v1_ListPeersResponse__Output>
  ListSubnets: MethodDefinition<_knit_v1_ListSubnetsRequest, _knit_v1_ListSubnetsResponse, _knit_v1_ListSubnetsRequest__Output, _knit_v1_ListSubnetsResponse__Output>
  Watch: MethodDefinition<_knit_v1_WatchRequest, _knit_v1_WatchEvent, _knit_v1_WatchRequest__Output, _knit_v1_WatchEvent__Output>
}
