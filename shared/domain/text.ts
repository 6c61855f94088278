// Caller-supplied text ends up in stored plans, reports, custom status, responses and terminals. Two rules keep it
// harmless: nothing a caller sends is copied at more than a fixed length (so a 4 MiB cell cannot be copied into every
// row's message), and characters that are invisible or reorder what a reader sees (C0/C1 controls, the Unicode
// bidirectional overrides and isolates) are shown as \u escapes instead of being passed through.

/** Longest caller value copied into a stored or echoed field (a UPN, a profile name, a cell in a message). */
export const MAX_SHOWN_CHARS = 200;
/** Longest error text stored or returned (the Durable extension caps a custom status at 16 KB; messages stay far below). */
export const MAX_ERROR_CHARS = 500;

// C0 controls except tab/LF/CR, DEL and C1 controls, ALM, LRM/RLM, LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI.
const HIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const HIDDEN_TEST = new RegExp(HIDDEN.source);

/** Whether the text holds control or text-direction characters that would hide or reorder what a report shows. */
export function hasHiddenCharacters(text: string): boolean {
  return HIDDEN_TEST.test(text);
}

/** The text as it may be stored or shown: hidden characters as \uXXXX, and at most `max` characters (then "…"). */
export function shown(text: string, max = MAX_SHOWN_CHARS): string {
  // Cut before escaping so a huge value is never copied whole; escapes can only lengthen it, so cut again after.
  const head = text.length > max ? text.slice(0, max) : text;
  const escaped = head.replace(HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > max || text.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

/** Error text as it may be stored in a plan, a row, a custom status or an HTTP answer. */
export function errorText(text: string): string {
  return shown(text, MAX_ERROR_CHARS);
}
