// How long after the previous one each chunk of a batch starts assigning (shared/domain/batch.ts, chunkStaggerMs):
// its share of the planned Graph writes at the shared write budget's rate, a little less (STAGGER_SHARE).
import { chunkStaggerMs, plannedWrites, STAGGER_SHARE, type PlannedAssignment } from '../../shared/domain/batch';

const hire = (row: number, o: Partial<PlannedAssignment> = {}): PlannedAssignment => ({
  row,
  userId: `u${row}`,
  addSkuIds: ['sku'],
  setUsageLocation: null,
  pollTeams: true,
  ...o,
});

describe('chunk stagger', () => {
  it('counts the writes a row is planned to make: a usage location, and one assignLicense for what it changes', () => {
    expect(plannedWrites(hire(1))).toBe(1);
    expect(plannedWrites(hire(1, { setUsageLocation: 'US' }))).toBe(2);
    expect(plannedWrites(hire(1, { addSkuIds: [] }))).toBe(0);
    expect(plannedWrites(hire(1, { addSkuIds: [], enable: [{ skuId: 'sku', planIds: ['p'] }] }))).toBe(1);
  });

  it("spaces chunks by their share of the planned writes at the budget's rate, times STAGGER_SHARE", () => {
    const chunks = [0, 1, 2, 3].map((c) => Array.from({ length: 200 }, (_, i) => hire(c * 200 + i)));
    // 800 writes over 4 chunks at 18/s: 200 / 18 s each, times the share
    expect(chunkStaggerMs(chunks, 18)).toBe(Math.floor(((STAGGER_SHARE * 200) / 18) * 1000));
    expect(chunkStaggerMs(chunks, 18)).toBeLessThan((200 / 18) * 1000);
    // twice the writes per row, twice the spacing; twice the rate, half
    const located = chunks.map((c) => c.map((a) => ({ ...a, setUsageLocation: 'US' })));
    expect(chunkStaggerMs(located, 18)).toBe(Math.floor(((STAGGER_SHARE * 400) / 18) * 1000));
    expect(chunkStaggerMs(chunks, 36)).toBe(Math.floor(((STAGGER_SHARE * 200) / 36) * 1000));
  });

  it('starts everything at once when there is one chunk, no write planned, or no budget', () => {
    expect(chunkStaggerMs([[hire(1)]], 18)).toBe(0);
    expect(chunkStaggerMs([[hire(1, { addSkuIds: [] })], [hire(2, { addSkuIds: [] })]], 18)).toBe(0);
    expect(chunkStaggerMs([[hire(1)], [hire(2)]], 0)).toBe(0);
  });
});
