// Original file: proto/knit/v1/knit.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyPoliciesRequest as _knit_v1_ApplyPoliciesRequest, ApplyPoliciesRequest__Output as _knit_v1_ApplyPoliciesRequest__Output } from '../../knit/v1/ApplyPoliciesRequest';
import type { ApplyPoliciesResponse as _knit_v1_ApplyPoliciesResponse, ApplyPoliciesResponse__Output as _knit_v1_ApplyPoliciesResponse__Output } from '../../knit/v1/ApplyPoliciesResponse';
import type { CreateNetworkRequest as _knit_v1_CreateNetworkRequest, CreateNetworkRequest__Output as _knit_v1_CreateNetworkRequest__Output } from '../../knit/v1/CreateNetworkRequest';
import type { DeleteNetworkRequest as _knit_v1_DeleteNetworkRequest, DeleteNetworkRequest__Output as _knit_v1_DeleteNetworkRequest__Output } from '../../knit/v1/DeleteNetworkRequest';
import type { DeleteNetworkResponse as _knit_v1_DeleteNetworkResponse, DeleteNetworkResponse__Output as _knit_v1_DeleteNetworkResponse__Output } from '../../knit/v1/DeleteNetworkResponse';
import type { DeletePolicyRequest as _knit_v1_DeletePolicyRequest, DeletePolicyRequest__Output as _knit_v1_DeletePolicyRequest__Output } from '../../knit/v1/DeletePolicyRequest';
import type { DeletePolicyResponse as _knit_v1_DeletePolicyResponse, DeletePolicyResponse__Output as _knit_v1_DeletePolicyResponse__Output } from '../../knit/v1/DeletePolicyResponse';
import type { Endpoint as _knit_v1_Endpoint, Endpoint__Output as _knit_v1_Endpoint__Output } from '../../knit/v1/Endpoint';
import type { GetEndpointRequest as _knit_v1_GetEndpointRequest, GetEndpointRequest__Output as _knit_v1_GetEndpointRequest__Output } from '../../knit/v1/GetEndpointRequest';
import type { GetNetworkRequest as _knit_v1_GetNetworkRequest, GetNetworkRequest__Output as _knit_v1_GetNetworkRequest__Output } from '../../knit/v1/GetNetworkRequest';
import type { GetNodeRequest as _knit_v1_GetNodeRequest, GetNodeRequest__Output as _knit_v1_GetNodeRequest__Output } from '../../knit/v1/GetNodeRequest';
import type { GetPolicyRequest as _knit_v1_GetPolicyRequest, GetPolicyRequest__Output as _knit_v1_GetPolicyRequest__Output } from '../../knit/v1/GetPolicyRequest';
import type { ListBgpRoutesRequest as _knit_v1_ListBgpRoutesRequest, ListBgpRoutesRequest__Output as _knit_v1_ListBgpRoutesRequest__Output } from '../../knit/v1/ListBgpRoutesRequest';
import type { ListBgpRoutesResponse as _knit_v1_ListBgpRoutesResponse, ListBgpRoutesResponse__Output as _knit_v1_ListBgpRoutesResponse__Output } from '../../knit/v1/ListBgpRoutesResponse';
import type { ListBgpSessionsRequest as _knit_v1_ListBgpSessionsRequest, ListBgpSessionsRequest__Output as _knit_v1_ListBgpSessionsRequest__Output } from '../../knit/v1/ListBgpSessionsRequest';
import type { ListBgpSessionsResponse as _knit_v1_ListBgpSessionsResponse, ListBgpSessionsResponse__Output as _knit_v1_ListBgpSessionsResponse__Output } from '../../knit/v1/ListBgpSessionsResponse';
import type { ListEndpointsRequest as _knit_v1_ListEndpointsRequest, ListEndpointsRequest__Output as _knit_v1_ListEndpointsRequest__Output } from '../../knit/v1/ListEndpointsRequest';
import type { ListEndpointsResponse as _knit_v1_ListEndpointsResponse, ListEndpointsResponse__Output as _knit_v1_ListEndpointsResponse__Output } from '../../knit/v1/ListEndpointsResponse';
import type { ListNetworksRequest as _knit_v1_ListNetworksRequest, ListNetworksRequest__Output as _knit_v1_ListNetworksRequest__Output } from '../../knit/v1/ListNetworksRequest';
import type { ListNetworksResponse as _knit_v1_ListNetworksResponse, ListNetworksResponse__Output as _knit_v1_ListNetworksResponse__Output } from '../../knit/v1/ListNetworksResponse';
import type { ListPeersRequest as _knit_v1_ListPeersRequest, ListPeersRequest__Output as _knit_v1_ListPeersRequest__Output } from '../../knit/v1/ListPeersRequest';
import type { ListPeersResponse as _knit_v1_ListPeersResponse, ListPeersResponse__Output as _knit_v1_ListPeersResponse__Output } from '../../knit/v1/ListPeersResponse';
import type { ListPoliciesRequest as _knit_v1_ListPoliciesRequest, ListPoliciesRequest__Output as _knit_v1_ListPoliciesRequest__Output } from '../../knit/v1/ListPoliciesRequest';
import type { ListPoliciesResponse as _knit_v1_ListPoliciesResponse, ListPoliciesResponse__Output as _knit_v1_ListPoliciesResponse__Output } from '../../knit/v1/ListPoliciesResponse';
import type { ListSubnetsRequest as _knit_v1_ListSubnetsRequest, ListSubnetsRequest__Output as _knit_v1_ListSubnetsRequest__Output } from '../../knit/v1/ListSubnetsRequest';
import type { ListSubnetsResponse as _knit_v1_ListSubnetsResponse, ListSubnetsResponse__Output as _knit_v1_ListSubnetsResponse__Output } from '../../knit/v1/ListSubnetsResponse';
import type { Network as _knit_v1_Network, Network__Output as _knit_v1_Network__Output } from '../../knit/v1/Network';
import type { Node as _knit_v1_Node, Node__Output as _knit_v1_Node__Output } from '../../knit/v1/Node';
import type { Policy as _knit_v1_Policy, Policy__Output as _knit_v1_Policy__Output } from '../../knit/v1/Policy';
import type { TracePolicyRequest as _knit_v1_TracePolicyRequest, TracePolicyRequest__Output as _knit_v1_TracePolicyRequest__Output } from '../../knit/v1/TracePolicyRequest';
import type { TracePolicyResponse as _knit_v1_TracePolicyResponse, TracePolicyResponse__Output as _knit_v1_TracePolicyResponse__Output } from '../../knit/v1/TracePolicyResponse';
import type { WatchEvent as _knit_v1_WatchEvent, WatchEvent__Output as _knit_v1_WatchEvent__Output } from '../../knit/v1/WatchEvent';
import type { WatchRequest as _knit_v1_WatchRequest, WatchRequest__Output as _knit_v1_WatchRequest__Output } from '../../knit/v1/WatchRequest';

/**
 * The operator service of one knitd.
 */
export interface KnitClient extends grpc.Client {
  /**
   * Applies a policy file (what `knitctl policy apply -f` does): every policy
   * in it is created or replaced in one etcd transaction, or none is;
   * INVALID_ARGUMENT names what is wrong. Every node enforces the change.
   */
  ApplyPolicies(argument: _knit_v1_ApplyPoliciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ApplyPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ApplyPolicies(argument: _knit_v1_ApplyPoliciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ApplyPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ApplyPolicies(argument: _knit_v1_ApplyPoliciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ApplyPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ApplyPolicies(argument: _knit_v1_ApplyPoliciesRequest, callback: grpc.requestCallback<_knit_v1_ApplyPoliciesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Applies a policy file (what `knitctl policy apply -f` does): every policy
   * in it is created or replaced in one etcd transaction, or none is;
   * INVALID_ARGUMENT names what is wrong. Every node enforces the change.
   */
  applyPolicies(argument: _knit_v1_ApplyPoliciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ApplyPoliciesResponse__Output>): grpc.ClientUnaryCall;
  applyPolicies(argument: _knit_v1_ApplyPoliciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ApplyPoliciesResponse__Output>): grpc.ClientUnaryCall;
  applyPolicies(argument: _knit_v1_ApplyPoliciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ApplyPoliciesResponse__Output>): grpc.ClientUnaryCall;
  applyPolicies(argument: _knit_v1_ApplyPoliciesRequest, callback: grpc.requestCallback<_knit_v1_ApplyPoliciesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Creates a named network (what `knitctl network create` does); INVALID_ARGUMENT
   * for a bad name or option, FAILED_PRECONDITION when it conflicts with another
   * network (name, CIDR, VNI, device names). Every node brings it up.
   */
  CreateNetwork(argument: _knit_v1_CreateNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  CreateNetwork(argument: _knit_v1_CreateNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  CreateNetwork(argument: _knit_v1_CreateNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  CreateNetwork(argument: _knit_v1_CreateNetworkRequest, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  /**
   * Creates a named network (what `knitctl network create` does); INVALID_ARGUMENT
   * for a bad name or option, FAILED_PRECONDITION when it conflicts with another
   * network (name, CIDR, VNI, device names). Every node brings it up.
   */
  createNetwork(argument: _knit_v1_CreateNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  createNetwork(argument: _knit_v1_CreateNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  createNetwork(argument: _knit_v1_CreateNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  createNetwork(argument: _knit_v1_CreateNetworkRequest, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  
  /**
   * Removes a named network; FAILED_PRECONDITION while any node has endpoints on
   * it (the message names the nodes), NOT_FOUND when absent.
   */
  DeleteNetwork(argument: _knit_v1_DeleteNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_DeleteNetworkResponse__Output>): grpc.ClientUnaryCall;
  DeleteNetwork(argument: _knit_v1_DeleteNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_DeleteNetworkResponse__Output>): grpc.ClientUnaryCall;
  DeleteNetwork(argument: _knit_v1_DeleteNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_DeleteNetworkResponse__Output>): grpc.ClientUnaryCall;
  DeleteNetwork(argument: _knit_v1_DeleteNetworkRequest, callback: grpc.requestCallback<_knit_v1_DeleteNetworkResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes a named network; FAILED_PRECONDITION while any node has endpoints on
   * it (the message names the nodes), NOT_FOUND when absent.
   */
  deleteNetwork(argument: _knit_v1_DeleteNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_DeleteNetworkResponse__Output>): grpc.ClientUnaryCall;
  deleteNetwork(argument: _knit_v1_DeleteNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_DeleteNetworkResponse__Output>): grpc.ClientUnaryCall;
  deleteNetwork(argument: _knit_v1_DeleteNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_DeleteNetworkResponse__Output>): grpc.ClientUnaryCall;
  deleteNetwork(argument: _knit_v1_DeleteNetworkRequest, callback: grpc.requestCallback<_knit_v1_DeleteNetworkResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Removes one policy; NOT_FOUND when absent.
   */
  DeletePolicy(argument: _knit_v1_DeletePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _knit_v1_DeletePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _knit_v1_DeletePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _knit_v1_DeletePolicyRequest, callback: grpc.requestCallback<_knit_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes one policy; NOT_FOUND when absent.
   */
  deletePolicy(argument: _knit_v1_DeletePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _knit_v1_DeletePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _knit_v1_DeletePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _knit_v1_DeletePolicyRequest, callback: grpc.requestCallback<_knit_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  
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
   * One network with its subnets and the nodes that have endpoints on it; NOT_FOUND when absent.
   */
  GetNetwork(argument: _knit_v1_GetNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  GetNetwork(argument: _knit_v1_GetNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  GetNetwork(argument: _knit_v1_GetNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  GetNetwork(argument: _knit_v1_GetNetworkRequest, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  /**
   * One network with its subnets and the nodes that have endpoints on it; NOT_FOUND when absent.
   */
  getNetwork(argument: _knit_v1_GetNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  getNetwork(argument: _knit_v1_GetNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  getNetwork(argument: _knit_v1_GetNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  getNetwork(argument: _knit_v1_GetNetworkRequest, callback: grpc.requestCallback<_knit_v1_Network__Output>): grpc.ClientUnaryCall;
  
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
   * One policy; NOT_FOUND when absent.
   */
  GetPolicy(argument: _knit_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Policy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _knit_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Policy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _knit_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Policy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _knit_v1_GetPolicyRequest, callback: grpc.requestCallback<_knit_v1_Policy__Output>): grpc.ClientUnaryCall;
  /**
   * One policy; NOT_FOUND when absent.
   */
  getPolicy(argument: _knit_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Policy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _knit_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_Policy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _knit_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_Policy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _knit_v1_GetPolicyRequest, callback: grpc.requestCallback<_knit_v1_Policy__Output>): grpc.ClientUnaryCall;
  
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
   * Every network of the cluster (the default one first, then the named ones);
   * FAILED_PRECONDITION in single-node mode.
   */
  ListNetworks(argument: _knit_v1_ListNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _knit_v1_ListNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _knit_v1_ListNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _knit_v1_ListNetworksRequest, callback: grpc.requestCallback<_knit_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Every network of the cluster (the default one first, then the named ones);
   * FAILED_PRECONDITION in single-node mode.
   */
  listNetworks(argument: _knit_v1_ListNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _knit_v1_ListNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _knit_v1_ListNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _knit_v1_ListNetworksRequest, callback: grpc.requestCallback<_knit_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  
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
   * The cluster's network policies (docs/policy.md), of one network or all;
   * FAILED_PRECONDITION in single-node mode.
   */
  ListPolicies(argument: _knit_v1_ListPoliciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _knit_v1_ListPoliciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _knit_v1_ListPoliciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _knit_v1_ListPoliciesRequest, callback: grpc.requestCallback<_knit_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The cluster's network policies (docs/policy.md), of one network or all;
   * FAILED_PRECONDITION in single-node mode.
   */
  listPolicies(argument: _knit_v1_ListPoliciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _knit_v1_ListPoliciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _knit_v1_ListPoliciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _knit_v1_ListPoliciesRequest, callback: grpc.requestCallback<_knit_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  
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
   * Allow or deny for one connection, with the policy and rule that decide it
   * (what `knitctl policy trace` prints), from the compiled state every node
   * programs; INVALID_ARGUMENT for a query it cannot answer.
   */
  TracePolicy(argument: _knit_v1_TracePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_TracePolicyResponse__Output>): grpc.ClientUnaryCall;
  TracePolicy(argument: _knit_v1_TracePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_TracePolicyResponse__Output>): grpc.ClientUnaryCall;
  TracePolicy(argument: _knit_v1_TracePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_TracePolicyResponse__Output>): grpc.ClientUnaryCall;
  TracePolicy(argument: _knit_v1_TracePolicyRequest, callback: grpc.requestCallback<_knit_v1_TracePolicyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Allow or deny for one connection, with the policy and rule that decide it
   * (what `knitctl policy trace` prints), from the compiled state every node
   * programs; INVALID_ARGUMENT for a query it cannot answer.
   */
  tracePolicy(argument: _knit_v1_TracePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_TracePolicyResponse__Output>): grpc.ClientUnaryCall;
  tracePolicy(argument: _knit_v1_TracePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_knit_v1_TracePolicyResponse__Output>): grpc.ClientUnaryCall;
  tracePolicy(argument: _knit_v1_TracePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_knit_v1_TracePolicyResponse__Output>): grpc.ClientUnaryCall;
  tracePolicy(argument: _knit_v1_TracePolicyRequest, callback: grpc.requestCallback<_knit_v1_TracePolicyResponse__Output>): grpc.ClientUnaryCall;
  
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
   * Applies a policy file (what `knitctl policy apply -f` does): every policy
   * in it is created or replaced in one etcd transaction, or none is;
   * INVALID_ARGUMENT names what is wrong. Every node enforces the change.
   */
  ApplyPolicies: grpc.handleUnaryCall<_knit_v1_ApplyPoliciesRequest__Output, _knit_v1_ApplyPoliciesResponse>;
  
  /**
   * Creates a named network (what `knitctl network create` does); INVALID_ARGUMENT
   * for a bad name or option, FAILED_PRECONDITION when it conflicts with another
   * network (name, CIDR, VNI, device names). Every node brings it up.
   */
  CreateNetwork: grpc.handleUnaryCall<_knit_v1_CreateNetworkRequest__Output, _knit_v1_Network>;
  
  /**
   * Removes a named network; FAILED_PRECONDITION while any node has endpoints on
   * it (the message names the nodes), NOT_FOUND when absent.
   */
  DeleteNetwork: grpc.handleUnaryCall<_knit_v1_DeleteNetworkRequest__Output, _knit_v1_DeleteNetworkResponse>;
  
  /**
   * Removes one policy; NOT_FOUND when absent.
   */
  DeletePolicy: grpc.handleUnaryCall<_knit_v1_DeletePolicyRequest__Output, _knit_v1_DeletePolicyResponse>;
  
  /**
   * One container attachment; NOT_FOUND when the container has none.
   */
  GetEndpoint: grpc.handleUnaryCall<_knit_v1_GetEndpointRequest__Output, _knit_v1_Endpoint>;
  
  /**
   * One network with its subnets and the nodes that have endpoints on it; NOT_FOUND when absent.
   */
  GetNetwork: grpc.handleUnaryCall<_knit_v1_GetNetworkRequest__Output, _knit_v1_Network>;
  
  /**
   * This node: lease, backend device, MTU, health, readiness, versions.
   */
  GetNode: grpc.handleUnaryCall<_knit_v1_GetNodeRequest__Output, _knit_v1_Node>;
  
  /**
   * One policy; NOT_FOUND when absent.
   */
  GetPolicy: grpc.handleUnaryCall<_knit_v1_GetPolicyRequest__Output, _knit_v1_Policy>;
  
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
   * Every network of the cluster (the default one first, then the named ones);
   * FAILED_PRECONDITION in single-node mode.
   */
  ListNetworks: grpc.handleUnaryCall<_knit_v1_ListNetworksRequest__Output, _knit_v1_ListNetworksResponse>;
  
  /**
   * Per peer, the kernel objects knit programmed and whether each matches.
   */
  ListPeers: grpc.handleUnaryCall<_knit_v1_ListPeersRequest__Output, _knit_v1_ListPeersResponse>;
  
  /**
   * The cluster's network policies (docs/policy.md), of one network or all;
   * FAILED_PRECONDITION in single-node mode.
   */
  ListPolicies: grpc.handleUnaryCall<_knit_v1_ListPoliciesRequest__Output, _knit_v1_ListPoliciesResponse>;
  
  /**
   * Every subnet lease known from etcd (in single-node mode: this node's only).
   */
  ListSubnets: grpc.handleUnaryCall<_knit_v1_ListSubnetsRequest__Output, _knit_v1_ListSubnetsResponse>;
  
  /**
   * Allow or deny for one connection, with the policy and rule that decide it
   * (what `knitctl policy trace` prints), from the compiled state every node
   * programs; INVALID_ARGUMENT for a query it cannot answer.
   */
  TracePolicy: grpc.handleUnaryCall<_knit_v1_TracePolicyRequest__Output, _knit_v1_TracePolicyResponse>;
  
  /**
   * A snapshot first, then one event per change. A client that does not keep
   * up is dropped with RESOURCE_EXHAUSTED and should call Watch again.
   */
  Watch: grpc.handleServerStreamingCall<_knit_v1_WatchRequest__Output, _knit_v1_WatchEvent>;
  
}

export interface KnitDefinition extends grpc.ServiceDefinition {
  ApplyPolicies: MethodDefinition<_knit_v1_ApplyPoliciesRequest, _knit_v1_ApplyPoliciesResponse, _knit_v1_ApplyPoliciesRequest__Output, _knit_v1_ApplyPoliciesResponse__Output>
  CreateNetwork: MethodDefinition<_knit_v1_CreateNetworkRequest, _knit_v1_Network, _knit_v1_CreateNetworkRequest__Output, _knit_v1_Network__Output>
  DeleteNetwork: MethodDefinition<_knit_v1_DeleteNetworkRequest, _knit_v1_DeleteNetworkResponse, _knit_v1_DeleteNetworkRequest__Output, _knit_v1_DeleteNetworkResponse__Output>
  DeletePolicy: MethodDefinition<_knit_v1_DeletePolicyRequest, _knit_v1_DeletePolicyResponse, _knit_v1_DeletePolicyRequest__Output, _knit_v1_DeletePolicyResponse__Output>
  GetEndpoint: MethodDefinition<_knit_v1_GetEndpointRequest, _knit_v1_Endpoint, _knit_v1_GetEndpointRequest__Output, _knit_v1_Endpoint__Output>
  GetNetwork: MethodDefinition<_knit_v1_GetNetworkRequest, _knit_v1_Network, _knit_v1_GetNetworkRequest__Output, _knit_v1_Network__Output>
  GetNode: MethodDefinition<_knit_v1_GetNodeRequest, _knit_v1_Node, _knit_v1_GetNodeRequest__Output, _knit_v1_Node__Output>
  GetPolicy: MethodDefinition<_knit_v1_GetPolicyRequest, _knit_v1_Policy, _knit_v1_GetPolicyRequest__Output, _knit_v1_Policy__Output>
  ListBgpRoutes: MethodDefinition<_knit_v1_ListBgpRoutesRequest, _knit_v1_ListBgpRoutesResponse, _knit_v1_ListBgpRoutesRequest__Output, _knit_v1_ListBgpRoutesResponse__Output>
  ListBgpSessions: MethodDefinition<_knit_v1_ListBgpSessionsRequest, _knit_v1_ListBgpSessionsResponse, _knit_v1_ListBgpSessionsRequest__Output, _knit_v1_ListBgpSessionsResponse__Output>
  ListEndpoints: MethodDefinition<_knit_v1_ListEndpointsRequest, _knit_v1_ListEndpointsResponse, _knit_v1_ListEndpointsRequest__Output, _knit_v1_ListEndpointsResponse__Output>
  ListNetworks: MethodDefinition<_knit_v1_ListNetworksRequest, _knit_v1_ListNetworksResponse, _knit_v1_ListNetworksRequest__Output, _knit_v1_ListNetworksResponse__Output>
  ListPeers: MethodDefinition<_knit_v1_ListPeersRequest, _knit_v1_ListPeersResponse, _knit_v1_ListPeersRequest__Output, _knit_v1_ListPeersResponse__Output>
  ListPolicies: MethodDefinition<_knit_v1_ListPoliciesRequest, _knit_v1_ListPoliciesResponse, _knit_v1_ListPoliciesRequest__Output, _knit_v1_ListPoliciesResponse__Output>
  ListSubnets: MethodDefinition<_knit_v1_ListSubnetsRequest, _knit_v1_ListSubnetsResponse, _knit_v1_ListSubnetsRequest__Output, _knit_v1_ListSubnetsResponse__Output>
  TracePolicy: MethodDefinition<_knit_v1_TracePolicyRequest, _knit_v1_TracePolicyResponse, _knit_v1_TracePolicyRequest__Output, _knit_v1_TracePolicyResponse__Output>
  Watch: MethodDefinition<_knit_v1_WatchRequest, _knit_v1_WatchEvent, _knit_v1_WatchRequest__Output, _knit_v1_WatchEvent__Output>
}
