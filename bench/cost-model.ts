// What a batch and an idle month cost in Azure, from counted storage operations and function executions and the
// prices in bench/azure-prices.json. Pure arithmetic: bench/cost.ts measures, this prices, test/unit/cost-model.test.ts
// checks the sums.
import type { BillingClass } from '../local/storage-meter';

export interface AzurePrices {
  readonly functions: {
    /** Flex Consumption, on demand: per GB-second of instance memory while executing. */
    readonly onDemandGbSecondUsd: number;
    /** Flex Consumption: per million executions. */
    readonly perMillionExecutionsUsd: number;
    /** Flex Consumption, always ready: per GB-second of an always-ready instance's memory, all the time (baseline). */
    readonly alwaysReadyBaselineGbSecondUsd: number;
  };
  /** Standard general-purpose v2, LRS, hot: per 10,000 operations of each class. */
  readonly storagePer10kUsd: Record<BillingClass, number>;
  readonly serviceBus: {
    /** Standard tier: the namespace's base charge per hour. */
    readonly standardBasePerHourUsd: number;
    /** Operations a month the base charge includes. */
    readonly standardIncludedOperationsPerMonth: number;
    /** Per million operations past the included ones. */
    readonly standardPerMillionOperationsUsd: number;
  };
}

/** What one deployment is made of, as infra/ provisions it by default. */
export interface Deployment {
  readonly instanceMemoryGb: number;
  readonly alwaysReadyInstances: number;
  /** Whether flags go to a Service Bus namespace (the Standard tier) rather than a storage queue. */
  readonly serviceBus: boolean;
}

export const HOURS_PER_MONTH = 730;

export type ClassCounts = Record<BillingClass, number>;

/** The price of counted storage operations, by class and in all. */
export function storageCost(counts: ClassCounts, prices: AzurePrices): { byClass: ClassCounts; totalUsd: number } {
  const byClass = {} as ClassCounts;
  let totalUsd = 0;
  for (const k of Object.keys(prices.storagePer10kUsd) as BillingClass[]) {
    const usd = ((counts[k] ?? 0) / 10_000) * prices.storagePer10kUsd[k];
    byClass[k] = usd;
    totalUsd += usd;
  }
  return { byClass, totalUsd };
}

export interface BatchMeasure {
  readonly users: number;
  readonly storage: ClassCounts;
  /** Function executions: orchestrator episodes, activities and trigger invocations. */
  readonly executions: number;
  /** Seconds during which an instance was executing at least one function. */
  readonly busySeconds: number;
  /** Service Bus operations (flags sent), priced only past the Standard tier's included operations. */
  readonly serviceBusOperations: number;
}

export interface CostTerms {
  readonly storageUsd: number;
  readonly storageByClassUsd: ClassCounts;
  readonly executionsUsd: number;
  readonly gbSecondsUsd: number;
  readonly serviceBusUsd: number;
  readonly totalUsd: number;
}

/**
 * A batch's cost scaled to 1,000 users: every counted term times 1,000 / users. Executions and GB-seconds at the
 * on-demand rates with no free grant (a marginal batch on a subscription that has used its grant); Service Bus
 * operations at nothing, since the Standard base charge (idle cost) includes millions a month.
 */
export function costPer1000Users(m: BatchMeasure, prices: AzurePrices, d: Deployment): CostTerms {
  if (!(m.users > 0)) throw new Error(`costPer1000Users: users must be above 0, got ${m.users}`);
  const scale = 1000 / m.users;
  const storage = storageCost(m.storage, prices);
  const executionsUsd = ((m.executions * scale) / 1e6) * prices.functions.perMillionExecutionsUsd;
  const gbSecondsUsd = m.busySeconds * scale * d.instanceMemoryGb * prices.functions.onDemandGbSecondUsd;
  const storageByClassUsd = Object.fromEntries(
    Object.entries(storage.byClass).map(([k, v]) => [k, v * scale]),
  ) as ClassCounts;
  const storageUsd = storage.totalUsd * scale;
  return {
    storageUsd,
    storageByClassUsd,
    executionsUsd,
    gbSecondsUsd,
    serviceBusUsd: 0,
    totalUsd: storageUsd + executionsUsd + gbSecondsUsd,
  };
}

export interface IdleMeasure {
  /** Storage operations counted over `hours` with no batch running. */
  readonly storage: ClassCounts;
  readonly executions: number;
  readonly hours: number;
}

export interface IdleTerms {
  readonly storageUsd: number;
  readonly storageByClassUsd: ClassCounts;
  readonly executionsUsd: number;
  readonly alwaysReadyBaselineUsd: number;
  readonly serviceBusBaseUsd: number;
  readonly totalUsd: number;
}

/**
 * A month (730 hours) of a deployment with no batch: the task hub's polling and lease renewals at the measured rate
 * per hour, the always-ready instances' baseline memory, and the Service Bus namespace's base charge.
 */
export function idleCostPerMonth(m: IdleMeasure, prices: AzurePrices, d: Deployment): IdleTerms {
  if (!(m.hours > 0)) throw new Error(`idleCostPerMonth: hours must be above 0, got ${m.hours}`);
  const scale = HOURS_PER_MONTH / m.hours;
  const storage = storageCost(m.storage, prices);
  const storageByClassUsd = Object.fromEntries(
    Object.entries(storage.byClass).map(([k, v]) => [k, v * scale]),
  ) as ClassCounts;
  const storageUsd = storage.totalUsd * scale;
  const executionsUsd = ((m.executions * scale) / 1e6) * prices.functions.perMillionExecutionsUsd;
  const alwaysReadyBaselineUsd =
    d.alwaysReadyInstances *
    d.instanceMemoryGb *
    HOURS_PER_MONTH *
    3600 *
    prices.functions.alwaysReadyBaselineGbSecondUsd;
  const serviceBusBaseUsd = d.serviceBus ? HOURS_PER_MONTH * prices.serviceBus.standardBasePerHourUsd : 0;
  return {
    storageUsd,
    storageByClassUsd,
    executionsUsd,
    alwaysReadyBaselineUsd,
    serviceBusBaseUsd,
    totalUsd: storageUsd + executionsUsd + alwaysReadyBaselineUsd + serviceBusBaseUsd,
  };
}

/** The largest of a set of named terms (the one to lower first). */
export function biggestTerm(terms: Record<string, number>): { name: string; usd: number } {
  let best = { name: '', usd: -Infinity };
  for (const [name, usd] of Object.entries(terms)) if (usd > best.usd) best = { name, usd };
  return best;
}
