export { BgpBackend, bgpFactory, type BgpBackendDeps, type BgpBackendNetlink, type BgpRouteView, type BgpSessionView } from './bgp-backend';
export { peerSpecs, resolveBgpOptions, LEASE_ASN_KEY, type BgpOptions } from './options';
