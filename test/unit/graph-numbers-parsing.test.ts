// The adapter reads Graph's telephoneNumberManagement answers defensively: the documented examples are not always
// well-formed (numberAssignments repeats "value" as an object), and fields may be missing.
import { heldNumbers, numberAssignments, numberOrder, operationIdOf } from '../../shared/adapters/graph/phone-numbers';

describe('reading Graph telephone number answers', () => {
  it('reads a list whose "value" is an array, or the docs\' repeated "value" object (JSON.parse keeps the last)', () => {
    const entry = (n: string) =>
      `{"telephoneNumber":"${n}","numberType":"callingPlan","assignmentStatus":"unassigned","isoCountryCode":"us","assignmentTargetId":null}`;
    expect(
      numberAssignments(JSON.parse(`{"value":[${entry('+12065550100')},${entry('12065550101')}]}`))?.map((n) => [
        n.telephoneNumber,
        n.isoCountryCode,
      ]),
    ).toEqual([
      ['+12065550100', 'US'],
      ['+12065550101', 'US'],
    ]);
    expect(
      numberAssignments(JSON.parse(`{"value":${entry('+1112')},"value":${entry('+12065550102')}}`))?.map(
        (n) => n.telephoneNumber,
      ),
    ).toEqual(['+12065550102']);
  });

  it('skips entries without a number, and reads a body without "value" as no list at all', () => {
    expect(
      numberAssignments({ value: [null, 7, { numberType: 'callingPlan' }, { telephoneNumber: '+1425' }] }),
    ).toEqual([
      {
        telephoneNumber: '+1425',
        numberType: '',
        isoCountryCode: null,
        assignmentStatus: '',
        assignmentTargetId: null,
        activationState: null,
        locationId: null,
        capabilities: [],
      },
    ]);
    expect(numberAssignments({})).toBeUndefined();
    expect(numberAssignments(null)).toBeUndefined();
  });

  it('reads an operation wrapped in "value" or bare, with the numbers\' statusDetail, and unknown statuses as unknown', () => {
    expect(
      numberOrder(
        { value: { id: 'x', status: 'failed', numbers: [{ status: 'failed', statusDetail: 'Number not found.' }] } },
        'x',
      ),
    ).toEqual({ operationId: 'x', status: 'failed', detail: 'Number not found.' });
    expect(numberOrder({ status: 'succeeded', numbers: [{ resourceLocation: 'https://x' }] }, 'y')).toEqual({
      operationId: 'y',
      status: 'succeeded',
      detail: null,
    });
    expect(numberOrder({ value: { status: 'paused' } }, 'z')?.status).toBe('unknown');
    expect(numberOrder({ value: {} }, 'z')).toBeUndefined();
  });

  it("takes the operation id from the documented operations('{id}') Location and the /operations/{id} form", () => {
    expect(
      operationIdOf(
        "https://graph.microsoft.com/beta/admin/teams/telephoneNumberManagement/operations('QXNzaWdu_bWVud-Hw2')",
      ),
    ).toBe('QXNzaWdu_bWVud-Hw2');
    expect(
      operationIdOf('https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/operations/abc123'),
    ).toBe('abc123');
    expect(
      operationIdOf('https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/numberAssignments'),
    ).toBeUndefined();
    expect(operationIdOf("https://x/operations('a/b')")).toBeUndefined();
  });

  it('reads Teams\' telephoneNumbers, and a configuration without them as a failure rather than "no number"', () => {
    expect(
      heldNumbers({
        value: { telephoneNumbers: [{ telephoneNumber: '+14255550100', assignmentCategory: 'primary' }, {}] },
      }),
    ).toEqual({ ok: true, value: [{ telephoneNumber: '+14255550100', assignmentCategory: 'primary' }] });
    expect(heldNumbers({ value: { featureTypes: [] } })).toMatchObject({ ok: false, code: 'UnexpectedResponse' });
  });
});
