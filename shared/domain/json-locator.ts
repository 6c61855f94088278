// Where JSON text goes wrong, as a line and column a person can find and the character found there, said the same way
// whatever the Node version's own JSON.parse message says (the batch body's and the simulator's tenant file's errors).

export function describeChar(c: string): string {
  if (c === '\n' || c === '\r') return 'end of line';
  if (c === '"') return 'quote';
  return `character '${c}'`;
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/**
 * The offset of the first JSON syntax error in `text` (text.length when it ends too early). Only run after JSON.parse
 * failed: V8's messages give a position for some errors and none for others ("Unexpected token … is not valid JSON").
 */
export function jsonSyntaxErrorAt(text: string): number {
  const stack: string[] = [];
  let i = 0;
  type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';
  let expect = 'value' as Expect;
  const afterValue = () => {
    expect = stack.length === 0 ? 'end' : 'comma-or-close';
  };
  const sticky = (re: RegExp): number => {
    re.lastIndex = i;
    return re.test(text) ? re.lastIndex : -1;
  };
  for (;;) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (i >= text.length) return expect === 'end' ? -1 : text.length;
    const c = text[i]!;
    if (expect === 'end') return i;
    if (expect === 'colon') {
      if (c !== ':') return i;
      i++;
      expect = 'value';
      continue;
    }
    if (expect === 'comma-or-close') {
      const top = stack[stack.length - 1];
      if (c === ',') {
        i++;
        expect = top === '{' ? 'key' : 'value';
      } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
        i++;
        stack.pop();
        afterValue();
      } else return i;
      continue;
    }
    if (expect === 'key' || expect === 'key-or-close') {
      if (c === '}' && expect === 'key-or-close') {
        i++;
        stack.pop();
        afterValue();
        continue;
      }
      if (c !== '"') return i;
      const end = sticky(JSON_STRING);
      if (end < 0) return stringErrorAt(text, i);
      i = end;
      expect = 'colon';
      continue;
    }
    // a value (or, after '[', the close)
    if (c === ']' && expect === 'value-or-close') {
      i++;
      stack.pop();
      afterValue();
    } else if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      expect = c === '{' ? 'key-or-close' : 'value-or-close';
    } else if (c === '"') {
      const end = sticky(JSON_STRING);
      if (end < 0) return stringErrorAt(text, i);
      i = end;
      afterValue();
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      i += 4;
      afterValue();
    } else if (text.startsWith('false', i)) {
      i += 5;
      afterValue();
    } else {
      const end = sticky(JSON_NUMBER);
      if (end < 0) return i;
      i = end;
      afterValue();
    }
  }
}

/** Where a string starting at `start` goes wrong: a control character (a line break), a bad escape, or no closing quote. */
function stringErrorAt(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c < 0x20) return i;
    if (c === 0x5c) {
      const n = text[i + 1];
      if (n === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return i;
        i += 5;
      } else if (n !== undefined && '"\\/bfnrt'.includes(n)) i++;
      else return i;
    }
  }
  return text.length;
}
