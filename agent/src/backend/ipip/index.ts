/** The IPIP backend folder's surface. */
export { IpipBackend, ipipFactory, planIpip, IPIP_DEVICE, IPIP_OVERHEAD } from './ipip-backend';
