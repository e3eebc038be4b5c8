/**
 * Typed refusals of the lease manager. Each one means "knitd must not go on
 * as if it had a subnet": main turns them into a failing health check and
 * leaves the kernel (routes, running containers) exactly as it is.
 */

/**
 * The subnet this node held (or its state file names) is now leased by
 * another node (flannel #1343). knit never overwrites another node's lease
 * and never renumbers silently: the operator decides (drain this node and
 * remove its state file, or free the subnet on the other node).
 */
export class SubnetConflictError extends Error {
  constructor(
    /** The contested subnet. */
    readonly subnet: string,
    /** This node. */
    readonly nodeName: string,
    /** Who holds it now (undefined when the stored value does not parse). */
    readonly holder: string | undefined,
  ) {
    super(
      `subnet ${subnet} of node ${nodeName} is now leased by ${holder === undefined ? 'an unparseable lease value' : `node ${holder}`}; ` +
        'refusing to overwrite it or to renumber running containers (drain this node and remove its subnet state file to take a new subnet)',
    );
    this.name = 'SubnetConflictError';
  }
}

/** Every subnet of the allocatable range is leased. */
export class SubnetExhaustedError extends Error {
  constructor(subnetLength: number, clusterCidr: string, taken: number, total: number, ranged: boolean) {
    super(`no free /${subnetLength} left in ${clusterCidr}${ranged ? ' (subnetMin..subnetMax)' : ''}: ${taken} of ${total} leased`);
    this.name = 'SubnetExhaustedError';
  }
}

/** The state file names a subnet the current network config cannot hold (the config changed). */
export class SubnetOutOfNetworkError extends Error {
  constructor(subnet: string, clusterCidr: string, subnetLength: number, stateFile: string) {
    super(
      `the subnet this node held, ${subnet} (from ${stateFile}), is not a /${subnetLength} inside ${clusterCidr}: ` +
        'the network config changed; drain the node and remove the state file to take a new subnet',
    );
    this.name = 'SubnetOutOfNetworkError';
  }
}
