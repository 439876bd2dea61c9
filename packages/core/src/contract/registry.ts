import { DuplicateContractError } from '../errors/usage-errors';
import type { AnyEventContract } from './event-contract';

/**
 * The contracts one service knows, by type. A type may be known in several
 * versions (a producer still on v1, a consumer on v2); `latest` is the one
 * with the highest version.
 */
export class ContractRegistry {
  private readonly byType = new Map<string, Map<number, AnyEventContract>>();

  constructor(contracts: Iterable<AnyEventContract> = []) {
    for (const contract of contracts) this.add(contract);
  }

  add(contract: AnyEventContract): void {
    let versions = this.byType.get(contract.type);
    if (!versions) {
      versions = new Map();
      this.byType.set(contract.type, versions);
    }
    const existing = versions.get(contract.version);
    if (existing && existing !== contract && existing.schema !== contract.schema) {
      throw new DuplicateContractError(contract.type, contract.version);
    }
    versions.set(contract.version, existing ?? contract);
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  latest(type: string): AnyEventContract | undefined {
    const versions = this.byType.get(type);
    if (!versions) return undefined;
    let best: AnyEventContract | undefined;
    for (const contract of versions.values()) {
      if (!best || contract.version > best.version) best = contract;
    }
    return best;
  }

  /** Every known contract, sorted by type then version: for catalogs and docs. */
  list(): AnyEventContract[] {
    return [...this.byType.values()]
      .flatMap((versions) => [...versions.values()])
      .sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version);
  }
}
