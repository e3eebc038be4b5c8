/** The host-gw backend folder's surface. */
export { HostGwBackend, hostGwFactory, planHostGw, type HostGwPlanEnv } from './hostgw-backend';
