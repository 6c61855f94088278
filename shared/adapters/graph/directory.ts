// The Graph adapter as one object: both of the domain's Graph interfaces (LicensingDirectory and PhoneNumberDirectory)
// over one shared GraphClient. The composition root (wiring.ts) builds this facade rather than one object per
// interface: the health check probes both halves through one object, `dialtone plan` reads both, and above all the
// two halves must share one client, so that their writes go through one write pacer and their requests through one
// connection pool; one constructor makes that sharing the only way to build the adapter. Each half lives in its own
// module (licensing.ts, phone-numbers.ts) with what only it needs; what both need is in client.ts.
import type { SubscribedSkuFacts } from '../../domain/catalog';
import type {
  AssignOptions,
  DirectoryUser,
  GraphResult,
  LicenceChange,
  LicenceReleases,
  LicensingDirectory,
  NumberReleases,
  PhoneNumberDirectory,
  TeamsListOptions,
  TeamsSweep,
  WriteOptions,
} from '../../domain/directory';
import type { LicenceAddition } from '../../domain/holdings';
import type {
  HeldNumber,
  NumberOrder,
  NumberRelease,
  NumberReleaseRequest,
  NumberUnassignmentSent,
  NumberRequest,
  NumberType,
  TeamsNumber,
} from '../../domain/phone-numbers';
import { GraphClient, type GraphClientOptions } from './client';
import { GraphLicensing, type GraphLicensingOptions } from './licensing';
import { GraphPhoneNumbers, type GraphPhoneNumbersOptions } from './phone-numbers';

export type GraphAdapterOptions = GraphClientOptions & GraphLicensingOptions & GraphPhoneNumbersOptions;

export class GraphLicensingDirectory
  implements LicensingDirectory, LicenceReleases, PhoneNumberDirectory, NumberReleases
{
  private readonly licensing: GraphLicensing;
  private readonly numbers: GraphPhoneNumbers;

  constructor(options: GraphAdapterOptions) {
    const client = new GraphClient(options);
    this.licensing = new GraphLicensing(client, options);
    this.numbers = new GraphPhoneNumbers(client, options);
  }

  listSubscribedSkus(): Promise<GraphResult<SubscribedSkuFacts[]>> {
    return this.licensing.listSubscribedSkus();
  }

  readUsers(idsOrUpns: readonly string[]): Promise<Map<string, GraphResult<DirectoryUser>>> {
    return this.licensing.readUsers(idsOrUpns);
  }

  setUsageLocation(userId: string, usageLocation: string, options?: WriteOptions): Promise<GraphResult<void>> {
    return this.licensing.setUsageLocation(userId, usageLocation, options);
  }

  assignLicenses(
    userId: string,
    add: readonly (string | LicenceAddition)[],
    options?: AssignOptions,
  ): Promise<GraphResult<void>> {
    return this.licensing.assignLicenses(userId, add, options);
  }

  removeLicenses(userId: string, skuIds: readonly string[], options?: WriteOptions): Promise<GraphResult<void>> {
    return this.licensing.removeLicenses(userId, skuIds, options);
  }

  changeLicenses(userId: string, change: LicenceChange, options?: AssignOptions): Promise<GraphResult<void>> {
    return this.licensing.changeLicenses(userId, change, options);
  }

  readTeamsFeatures(userIds: readonly string[]): Promise<Map<string, GraphResult<string[]>>> {
    return this.licensing.readTeamsFeatures(userIds);
  }

  listTeamsFeatures(options: TeamsListOptions): Promise<GraphResult<TeamsSweep>> {
    return this.licensing.listTeamsFeatures(options);
  }

  listFreeNumbers(numberType: NumberType, isoCountryCode: string, limit: number): Promise<GraphResult<TeamsNumber[]>> {
    return this.numbers.listFreeNumbers(numberType, isoCountryCode, limit);
  }

  findNumber(telephoneNumber: string): Promise<GraphResult<TeamsNumber | null>> {
    return this.numbers.findNumber(telephoneNumber);
  }

  startNumberAssignment(request: NumberRequest): Promise<GraphResult<NumberOrder>> {
    return this.numbers.startNumberAssignment(request);
  }

  readNumberOrder(operationId: string): Promise<GraphResult<NumberOrder>> {
    return this.numbers.readNumberOrder(operationId);
  }

  assignNumber(request: NumberRequest): Promise<GraphResult<NumberOrder>> {
    return this.numbers.assignNumber(request);
  }

  unassignNumber(request: NumberReleaseRequest): Promise<GraphResult<NumberRelease>> {
    return this.numbers.unassignNumber(request);
  }

  startNumberUnassignment(telephoneNumber: string, numberType: NumberType): Promise<GraphResult<NumberOrder>> {
    return this.numbers.startNumberUnassignment(telephoneNumber, numberType);
  }

  followNumberUnassignment(sent: NumberUnassignmentSent): Promise<GraphResult<NumberRelease>> {
    return this.numbers.followNumberUnassignment(sent);
  }

  setEmergencyLocation(telephoneNumber: string, locationId: string): Promise<GraphResult<void>> {
    return this.numbers.setEmergencyLocation(telephoneNumber, locationId);
  }

  readHeldNumbers(userIds: readonly string[]): Promise<Map<string, GraphResult<HeldNumber[]>>> {
    return this.numbers.readHeldNumbers(userIds);
  }
}
