// What a user principal name may look like (Entra: local part up to 64 characters, at most 113 in all), and the
// case-insensitive key that duplicate detection and tenant look-ups use.
const UPN =
  /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export function isValidUpn(upn: string): boolean {
  return upn.length <= 113 && UPN.test(upn) && !upn.startsWith('.') && !upn.includes('..') && !upn.includes('.@');
}

export function upnKey(upn: string): string {
  return upn.trim().toLowerCase();
}
