/** knit as a Docker (CNM) network + IPAM driver, and the per-node Docker networks of knit's networks (docs/docker.md). */
export { DockerDriver, DriverError, DOCKER_IFNAME, containerVethName, type DockerDriverDeps, type DockerNetworkView } from './driver';
export { PluginServer, type PluginHandler } from './plugin-server';
export { NetworkIdMap } from './network-map';
export { DockerNetworkSync, dockerApi, MANAGED_LABEL, type WantedDockerNetwork } from './network-sync';
export * from './protocol';
