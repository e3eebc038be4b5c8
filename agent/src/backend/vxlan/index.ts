/** The VXLAN backend folder's surface. */
export { VxlanBackend, vxlanFactory, vxlanDeviceName, VXLAN_OVERHEAD } from './vxlan-backend';
export { planVxlan, VxlanPlanCache, type VxlanPlanEnv } from './vxlan-plan';
export { vtepMac } from './vtep-mac';
