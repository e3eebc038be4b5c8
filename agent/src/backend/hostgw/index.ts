/** The host-gw backend folder's surface. */
export { HostGwBackend, hostGwFactory, HostGwPlanCache, planHostGw, type HostGwPlanEnv } from './hostgw-backend';
