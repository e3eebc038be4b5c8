import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApplyPoliciesRequest as _knit_v1_ApplyPoliciesRequest, ApplyPoliciesRequest__Output as _knit_v1_ApplyPoliciesRequest__Output } from './knit/v1/ApplyPoliciesRequest';
import type { ApplyPoliciesResponse as _knit_v1_ApplyPoliciesResponse, ApplyPoliciesResponse__Output as _knit_v1_ApplyPoliciesResponse__Output } from './knit/v1/ApplyPoliciesResponse';
import type { BackendInfo as _knit_v1_BackendInfo, BackendInfo__Output as _knit_v1_BackendInfo__Output } from './knit/v1/BackendInfo';
import type { BgpRoute as _knit_v1_BgpRoute, BgpRoute__Output as _knit_v1_BgpRoute__Output } from './knit/v1/BgpRoute';
import type { BgpSession as _knit_v1_BgpSession, BgpSession__Output as _knit_v1_BgpSession__Output } from './knit/v1/BgpSession';
import type { BgpSessionEvent as _knit_v1_BgpSessionEvent, BgpSessionEvent__Output as _knit_v1_BgpSessionEvent__Output } from './knit/v1/BgpSessionEvent';
import type { Condition as _knit_v1_Condition, Condition__Output as _knit_v1_Condition__Output } from './knit/v1/Condition';
import type { CreateNetworkRequest as _knit_v1_CreateNetworkRequest, CreateNetworkRequest__Output as _knit_v1_CreateNetworkRequest__Output } from './knit/v1/CreateNetworkRequest';
import type { DeleteNetworkRequest as _knit_v1_DeleteNetworkRequest, DeleteNetworkRequest__Output as _knit_v1_DeleteNetworkRequest__Output } from './knit/v1/DeleteNetworkRequest';
import type { DeleteNetworkResponse as _knit_v1_DeleteNetworkResponse, DeleteNetworkResponse__Output as _knit_v1_DeleteNetworkResponse__Output } from './knit/v1/DeleteNetworkResponse';
import type { DeletePolicyRequest as _knit_v1_DeletePolicyRequest, DeletePolicyRequest__Output as _knit_v1_DeletePolicyRequest__Output } from './knit/v1/DeletePolicyRequest';
import type { DeletePolicyResponse as _knit_v1_DeletePolicyResponse, DeletePolicyResponse__Output as _knit_v1_DeletePolicyResponse__Output } from './knit/v1/DeletePolicyResponse';
import type { Endpoint as _knit_v1_Endpoint, Endpoint__Output as _knit_v1_Endpoint__Output } from './knit/v1/Endpoint';
import type { EndpointEvent as _knit_v1_EndpointEvent, EndpointEvent__Output as _knit_v1_EndpointEvent__Output } from './knit/v1/EndpointEvent';
import type { FdbObject as _knit_v1_FdbObject, FdbObject__Output as _knit_v1_FdbObject__Output } from './knit/v1/FdbObject';
import type { GetEndpointRequest as _knit_v1_GetEndpointRequest, GetEndpointRequest__Output as _knit_v1_GetEndpointRequest__Output } from './knit/v1/GetEndpointRequest';
import type { GetNetworkRequest as _knit_v1_GetNetworkRequest, GetNetworkRequest__Output as _knit_v1_GetNetworkRequest__Output } from './knit/v1/GetNetworkRequest';
import type { GetNodeRequest as _knit_v1_GetNodeRequest, GetNodeRequest__Output as _knit_v1_GetNodeRequest__Output } from './knit/v1/GetNodeRequest';
import type { GetPolicyRequest as _knit_v1_GetPolicyRequest, GetPolicyRequest__Output as _knit_v1_GetPolicyRequest__Output } from './knit/v1/GetPolicyRequest';
import type { KnitClient as _knit_v1_KnitClient, KnitDefinition as _knit_v1_KnitDefinition } from './knit/v1/Knit';
import type { ListBgpRoutesRequest as _knit_v1_ListBgpRoutesRequest, ListBgpRoutesRequest__Output as _knit_v1_ListBgpRoutesRequest__Output } from './knit/v1/ListBgpRoutesRequest';
import type { ListBgpRoutesResponse as _knit_v1_ListBgpRoutesResponse, ListBgpRoutesResponse__Output as _knit_v1_ListBgpRoutesResponse__Output } from './knit/v1/ListBgpRoutesResponse';
import type { ListBgpSessionsRequest as _knit_v1_ListBgpSessionsRequest, ListBgpSessionsRequest__Output as _knit_v1_ListBgpSessionsRequest__Output } from './knit/v1/ListBgpSessionsRequest';
import type { ListBgpSessionsResponse as _knit_v1_ListBgpSessionsResponse, ListBgpSessionsResponse__Output as _knit_v1_ListBgpSessionsResponse__Output } from './knit/v1/ListBgpSessionsResponse';
import type { ListEndpointsRequest as _knit_v1_ListEndpointsRequest, ListEndpointsRequest__Output as _knit_v1_ListEndpointsRequest__Output } from './knit/v1/ListEndpointsRequest';
import type { ListEndpointsResponse as _knit_v1_ListEndpointsResponse, ListEndpointsResponse__Output as _knit_v1_ListEndpointsResponse__Output } from './knit/v1/ListEndpointsResponse';
import type { ListNetworksRequest as _knit_v1_ListNetworksRequest, ListNetworksRequest__Output as _knit_v1_ListNetworksRequest__Output } from './knit/v1/ListNetworksRequest';
import type { ListNetworksResponse as _knit_v1_ListNetworksResponse, ListNetworksResponse__Output as _knit_v1_ListNetworksResponse__Output } from './knit/v1/ListNetworksResponse';
import type { ListPeersRequest as _knit_v1_ListPeersRequest, ListPeersRequest__Output as _knit_v1_ListPeersRequest__Output } from './knit/v1/ListPeersRequest';
import type { ListPeersResponse as _knit_v1_ListPeersResponse, ListPeersResponse__Output as _knit_v1_ListPeersResponse__Output } from './knit/v1/ListPeersResponse';
import type { ListPoliciesRequest as _knit_v1_ListPoliciesRequest, ListPoliciesRequest__Output as _knit_v1_ListPoliciesRequest__Output } from './knit/v1/ListPoliciesRequest';
import type { ListPoliciesResponse as _knit_v1_ListPoliciesResponse, ListPoliciesResponse__Output as _knit_v1_ListPoliciesResponse__Output } from './knit/v1/ListPoliciesResponse';
import type { ListSubnetsRequest as _knit_v1_ListSubnetsRequest, ListSubnetsRequest__Output as _knit_v1_ListSubnetsRequest__Output } from './knit/v1/ListSubnetsRequest';
import type { ListSubnetsResponse as _knit_v1_ListSubnetsResponse, ListSubnetsResponse__Output as _knit_v1_ListSubnetsResponse__Output } from './knit/v1/ListSubnetsResponse';
import type { NeighbourObject as _knit_v1_NeighbourObject, NeighbourObject__Output as _knit_v1_NeighbourObject__Output } from './knit/v1/NeighbourObject';
import type { Network as _knit_v1_Network, Network__Output as _knit_v1_Network__Output } from './knit/v1/Network';
import type { NetworkAttachment as _knit_v1_NetworkAttachment, NetworkAttachment__Output as _knit_v1_NetworkAttachment__Output } from './knit/v1/NetworkAttachment';
import type { NetworkEvent as _knit_v1_NetworkEvent, NetworkEvent__Output as _knit_v1_NetworkEvent__Output } from './knit/v1/NetworkEvent';
import type { NetworkSubnet as _knit_v1_NetworkSubnet, NetworkSubnet__Output as _knit_v1_NetworkSubnet__Output } from './knit/v1/NetworkSubnet';
import type { NexthopObject as _knit_v1_NexthopObject, NexthopObject__Output as _knit_v1_NexthopObject__Output } from './knit/v1/NexthopObject';
import type { Node as _knit_v1_Node, Node__Output as _knit_v1_Node__Output } from './knit/v1/Node';
import type { NodeEvent as _knit_v1_NodeEvent, NodeEvent__Output as _knit_v1_NodeEvent__Output } from './knit/v1/NodeEvent';
import type { Peer as _knit_v1_Peer, Peer__Output as _knit_v1_Peer__Output } from './knit/v1/Peer';
import type { PeerEvent as _knit_v1_PeerEvent, PeerEvent__Output as _knit_v1_PeerEvent__Output } from './knit/v1/PeerEvent';
import type { PeerLivenessEvent as _knit_v1_PeerLivenessEvent, PeerLivenessEvent__Output as _knit_v1_PeerLivenessEvent__Output } from './knit/v1/PeerLivenessEvent';
import type { Policy as _knit_v1_Policy, Policy__Output as _knit_v1_Policy__Output } from './knit/v1/Policy';
import type { PolicyEvent as _knit_v1_PolicyEvent, PolicyEvent__Output as _knit_v1_PolicyEvent__Output } from './knit/v1/PolicyEvent';
import type { PolicyVerdict as _knit_v1_PolicyVerdict, PolicyVerdict__Output as _knit_v1_PolicyVerdict__Output } from './knit/v1/PolicyVerdict';
import type { PortMapping as _knit_v1_PortMapping, PortMapping__Output as _knit_v1_PortMapping__Output } from './knit/v1/PortMapping';
import type { RouteObject as _knit_v1_RouteObject, RouteObject__Output as _knit_v1_RouteObject__Output } from './knit/v1/RouteObject';
import type { Snapshot as _knit_v1_Snapshot, Snapshot__Output as _knit_v1_Snapshot__Output } from './knit/v1/Snapshot';
import type { SubnetEvent as _knit_v1_SubnetEvent, SubnetEvent__Output as _knit_v1_SubnetEvent__Output } from './knit/v1/SubnetEvent';
import type { SubnetLease as _knit_v1_SubnetLease, SubnetLease__Output as _knit_v1_SubnetLease__Output } from './knit/v1/SubnetLease';
import type { TracePolicyRequest as _knit_v1_TracePolicyRequest, TracePolicyRequest__Output as _knit_v1_TracePolicyRequest__Output } from './knit/v1/TracePolicyRequest';
import type { TracePolicyResponse as _knit_v1_TracePolicyResponse, TracePolicyResponse__Output as _knit_v1_TracePolicyResponse__Output } from './knit/v1/TracePolicyResponse';
import type { Versions as _knit_v1_Versions, Versions__Output as _knit_v1_Versions__Output } from './knit/v1/Versions';
import type { WatchEvent as _knit_v1_WatchEvent, WatchEvent__Output as _knit_v1_WatchEvent__Output } from './knit/v1/WatchEvent';
import type { WatchRequest as _knit_v1_WatchRequest, WatchRequest__Output as _knit_v1_WatchRequest__Output } from './knit/v1/WatchRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  knit: {
    v1: {
      AgentState: EnumTypeDefinition
      ApplyPoliciesRequest: MessageTypeDefinition<_knit_v1_ApplyPoliciesRequest, _knit_v1_ApplyPoliciesRequest__Output>
      ApplyPoliciesResponse: MessageTypeDefinition<_knit_v1_ApplyPoliciesResponse, _knit_v1_ApplyPoliciesResponse__Output>
      BackendInfo: MessageTypeDefinition<_knit_v1_BackendInfo, _knit_v1_BackendInfo__Output>
      BgpRoute: MessageTypeDefinition<_knit_v1_BgpRoute, _knit_v1_BgpRoute__Output>
      BgpSession: MessageTypeDefinition<_knit_v1_BgpSession, _knit_v1_BgpSession__Output>
      BgpSessionEvent: MessageTypeDefinition<_knit_v1_BgpSessionEvent, _knit_v1_BgpSessionEvent__Output>
      ChangeType: EnumTypeDefinition
      Condition: MessageTypeDefinition<_knit_v1_Condition, _knit_v1_Condition__Output>
      CreateNetworkRequest: MessageTypeDefinition<_knit_v1_CreateNetworkRequest, _knit_v1_CreateNetworkRequest__Output>
      DeleteNetworkRequest: MessageTypeDefinition<_knit_v1_DeleteNetworkRequest, _knit_v1_DeleteNetworkRequest__Output>
      DeleteNetworkResponse: MessageTypeDefinition<_knit_v1_DeleteNetworkResponse, _knit_v1_DeleteNetworkResponse__Output>
      DeletePolicyRequest: MessageTypeDefinition<_knit_v1_DeletePolicyRequest, _knit_v1_DeletePolicyRequest__Output>
      DeletePolicyResponse: MessageTypeDefinition<_knit_v1_DeletePolicyResponse, _knit_v1_DeletePolicyResponse__Output>
      Endpoint: MessageTypeDefinition<_knit_v1_Endpoint, _knit_v1_Endpoint__Output>
      EndpointEvent: MessageTypeDefinition<_knit_v1_EndpointEvent, _knit_v1_EndpointEvent__Output>
      FdbObject: MessageTypeDefinition<_knit_v1_FdbObject, _knit_v1_FdbObject__Output>
      GetEndpointRequest: MessageTypeDefinition<_knit_v1_GetEndpointRequest, _knit_v1_GetEndpointRequest__Output>
      GetNetworkRequest: MessageTypeDefinition<_knit_v1_GetNetworkRequest, _knit_v1_GetNetworkRequest__Output>
      GetNodeRequest: MessageTypeDefinition<_knit_v1_GetNodeRequest, _knit_v1_GetNodeRequest__Output>
      GetPolicyRequest: MessageTypeDefinition<_knit_v1_GetPolicyRequest, _knit_v1_GetPolicyRequest__Output>
      /**
       * The operator service of one knitd.
       */
      Knit: SubtypeConstructor<typeof grpc.Client, _knit_v1_KnitClient> & { service: _knit_v1_KnitDefinition }
      ListBgpRoutesRequest: MessageTypeDefinition<_knit_v1_ListBgpRoutesRequest, _knit_v1_ListBgpRoutesRequest__Output>
      ListBgpRoutesResponse: MessageTypeDefinition<_knit_v1_ListBgpRoutesResponse, _knit_v1_ListBgpRoutesResponse__Output>
      ListBgpSessionsRequest: MessageTypeDefinition<_knit_v1_ListBgpSessionsRequest, _knit_v1_ListBgpSessionsRequest__Output>
      ListBgpSessionsResponse: MessageTypeDefinition<_knit_v1_ListBgpSessionsResponse, _knit_v1_ListBgpSessionsResponse__Output>
      ListEndpointsRequest: MessageTypeDefinition<_knit_v1_ListEndpointsRequest, _knit_v1_ListEndpointsRequest__Output>
      ListEndpointsResponse: MessageTypeDefinition<_knit_v1_ListEndpointsResponse, _knit_v1_ListEndpointsResponse__Output>
      ListNetworksRequest: MessageTypeDefinition<_knit_v1_ListNetworksRequest, _knit_v1_ListNetworksRequest__Output>
      ListNetworksResponse: MessageTypeDefinition<_knit_v1_ListNetworksResponse, _knit_v1_ListNetworksResponse__Output>
      ListPeersRequest: MessageTypeDefinition<_knit_v1_ListPeersRequest, _knit_v1_ListPeersRequest__Output>
      ListPeersResponse: MessageTypeDefinition<_knit_v1_ListPeersResponse, _knit_v1_ListPeersResponse__Output>
      ListPoliciesRequest: MessageTypeDefinition<_knit_v1_ListPoliciesRequest, _knit_v1_ListPoliciesRequest__Output>
      ListPoliciesResponse: MessageTypeDefinition<_knit_v1_ListPoliciesResponse, _knit_v1_ListPoliciesResponse__Output>
      ListSubnetsRequest: MessageTypeDefinition<_knit_v1_ListSubnetsRequest, _knit_v1_ListSubnetsRequest__Output>
      ListSubnetsResponse: MessageTypeDefinition<_knit_v1_ListSubnetsResponse, _knit_v1_ListSubnetsResponse__Output>
      NeighbourObject: MessageTypeDefinition<_knit_v1_NeighbourObject, _knit_v1_NeighbourObject__Output>
      Network: MessageTypeDefinition<_knit_v1_Network, _knit_v1_Network__Output>
      NetworkAttachment: MessageTypeDefinition<_knit_v1_NetworkAttachment, _knit_v1_NetworkAttachment__Output>
      NetworkEvent: MessageTypeDefinition<_knit_v1_NetworkEvent, _knit_v1_NetworkEvent__Output>
      NetworkSubnet: MessageTypeDefinition<_knit_v1_NetworkSubnet, _knit_v1_NetworkSubnet__Output>
      NexthopObject: MessageTypeDefinition<_knit_v1_NexthopObject, _knit_v1_NexthopObject__Output>
      Node: MessageTypeDefinition<_knit_v1_Node, _knit_v1_Node__Output>
      NodeEvent: MessageTypeDefinition<_knit_v1_NodeEvent, _knit_v1_NodeEvent__Output>
      Peer: MessageTypeDefinition<_knit_v1_Peer, _knit_v1_Peer__Output>
      PeerEvent: MessageTypeDefinition<_knit_v1_PeerEvent, _knit_v1_PeerEvent__Output>
      PeerLivenessEvent: MessageTypeDefinition<_knit_v1_PeerLivenessEvent, _knit_v1_PeerLivenessEvent__Output>
      Policy: MessageTypeDefinition<_knit_v1_Policy, _knit_v1_Policy__Output>
      PolicyEvent: MessageTypeDefinition<_knit_v1_PolicyEvent, _knit_v1_PolicyEvent__Output>
      PolicyVerdict: MessageTypeDefinition<_knit_v1_PolicyVerdict, _knit_v1_PolicyVerdict__Output>
      PortMapping: MessageTypeDefinition<_knit_v1_PortMapping, _knit_v1_PortMapping__Output>
      RouteObject: MessageTypeDefinition<_knit_v1_RouteObject, _knit_v1_RouteObject__Output>
      Snapshot: MessageTypeDefinition<_knit_v1_Snapshot, _knit_v1_Snapshot__Output>
      SubnetEvent: MessageTypeDefinition<_knit_v1_SubnetEvent, _knit_v1_SubnetEvent__Output>
      SubnetLease: MessageTypeDefinition<_knit_v1_SubnetLease, _knit_v1_SubnetLease__Output>
      SyncState: EnumTypeDefinition
      TracePolicyRequest: MessageTypeDefinition<_knit_v1_TracePolicyRequest, _knit_v1_TracePolicyRequest__Output>
      TracePolicyResponse: MessageTypeDefinition<_knit_v1_TracePolicyResponse, _knit_v1_TracePolicyResponse__Output>
      Versions: MessageTypeDefinition<_knit_v1_Versions, _knit_v1_Versions__Output>
      WatchEvent: MessageTypeDefinition<_knit_v1_WatchEvent, _knit_v1_WatchEvent__Output>
      WatchRequest: MessageTypeDefinition<_knit_v1_WatchRequest, _knit_v1_WatchRequest__Output>
    }
  }
}

