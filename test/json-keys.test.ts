// stages/shared/json-keys.ts: a key given twice in any object of a JSON text, found exactly, and the
// cheap count that decides whether to look. Expected values are written out by hand from the texts.
import { describe, expect, it } from 'vitest';
import { firstDuplicateKey, keyColons, parsedKeys } from '../stages/shared/json-keys.js';

describe('firstDuplicateKey', () => {
  it.each([
    ['{"a":1,"b":2}', null],
    ['{"events":[],"events":[1]}', { pointer: '/', key: 'events' }],
    ['{"events":[{"t":1},{"t":0,"t":2}]}', { pointer: '/events/1', key: 't' }],
    // Escapes are decoded before comparing: \u0065 is "e".
    ['{"events":1,"\\u0065vents":2}', { pointer: '/', key: 'events' }],
    // Equal keys in different objects, and key-like text inside strings, are no duplicates.
    ['{"a":{"k":1},"b":{"k":1},"s":"\\"a\\":1,\\"a\\":2"}', null],
    ['[{"x":1},{"x":2}]', null],
    ['{"a/b~":{"z":1,"z":2}}', { pointer: '/a~1b~0', key: 'z' }],
    [' { "k" : 1 , "k" : 2 } ', { pointer: '/', key: 'k' }],
  ])('%s', (text, expected) => {
    expect(firstDuplicateKey(text)).toEqual(expected);
  });
});

describe('keyColons against parsedKeys', () => {
  it('agree on a text without duplicates or colons in strings', () => {
    const text = '{"a":1,"b":{"c":[{"d":2},{"e":3}]}}';
    expect([keyColons(text), parsedKeys(JSON.parse(text))]).toEqual([5, 5]);
  });

  it('differ when a key is given twice, whatever the whitespace', () => {
    const text = '{"events":[] ,\n "events" :\t[1]}';
    expect([keyColons(text), parsedKeys(JSON.parse(text))]).toEqual([2, 1]);
  });

  it('count a colon typed as a key value, so the exact scan runs and finds nothing', () => {
    const text = '{"key":":","code":"Semicolon"}';
    expect([keyColons(text), parsedKeys(JSON.parse(text))]).toEqual([3, 2]);
    expect(firstDuplicateKey(text)).toBeNull();
  });
});
