/**
 * Which knit network each Docker network is, by Docker's NetworkID, kept in
 * `${stateDir}/docker-networks.json` (atomic writes): dockerd sends
 * CreateNetwork once, but CreateEndpoint/Join name only the NetworkID, also
 * after a knitd restart.
 */
import { nodeStateFs, readIfExists, writeFileAtomic, type StateFs } from '../persist/atomic-file';

const ID = /^[0-9a-zA-Z]{1,128}$/;

export class NetworkIdMap {
  private constructor(private readonly file: string, private readonly fs: StateFs, private readonly byId: Map<string, string>) {}

  /** Loads the file (absent = empty); entries that do not look like an ID → name pair are dropped. */
  static async open(file: string, fs: StateFs = nodeStateFs): Promise<NetworkIdMap> {
    const text = await readIfExists(fs, file);
    const byId = new Map<string, string>();
    if (text !== undefined) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (cause) {
        throw new Error(`Docker network state file ${file} is not JSON; move it away to start without it`, { cause });
      }
      const networks = (doc as { networks?: unknown }).networks;
      if (typeof networks === 'object' && networks !== null) {
        for (const [id, name] of Object.entries(networks)) if (ID.test(id) && typeof name === 'string') byId.set(id, name);
      }
    }
    return new NetworkIdMap(file, fs, byId);
  }

  get(networkId: string): string | undefined {
    return this.byId.get(networkId);
  }

  async set(networkId: string, name: string): Promise<void> {
    if (!ID.test(networkId)) throw new Error(`Docker network ID ${JSON.stringify(networkId)} is not an ID`);
    if (this.byId.get(networkId) === name) return;
    this.byId.set(networkId, name);
    await this.save();
  }

  async delete(networkId: string): Promise<void> {
    if (this.byId.delete(networkId)) await this.save();
  }

  private save(): Promise<void> {
    return writeFileAtomic(this.fs, this.file, JSON.stringify({ version: 1, networks: Object.fromEntries(this.byId) }));
  }
}
