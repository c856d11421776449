/**
 * The family name stored in a TrueType/OpenType font file (its 'name' table), so that text is
 * drawn by asking for the family that was actually loaded rather than a name assumed in advance.
 */

/** Name IDs of the 'name' table: the typographic family (16) groups styles better than the legacy family (1). */
const TYPOGRAPHIC_FAMILY = 16;
const FAMILY = 1;

/** The font's family name, or null when the bytes are not a font with a readable 'name' table. */
export function fontFamilyName(bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inBounds = (offset: number, length: number): boolean => offset >= 0 && offset + length <= bytes.byteLength;
  if (!inBounds(0, 12)) return null;
  let font = 0;
  // a collection (.ttc): the first font's table directory
  if (view.getUint32(0) === 0x74746366 /* 'ttcf' */) {
    if (!inBounds(12, 4)) return null;
    font = view.getUint32(12);
  }
  if (!inBounds(font, 12)) return null;
  const version = view.getUint32(font);
  if (version !== 0x00010000 && version !== 0x4f54544f /* 'OTTO' */ && version !== 0x74727565 /* 'true' */) return null;
  const tables = view.getUint16(font + 4);
  let nameTable = -1;
  for (let i = 0; i < tables; i++) {
    const record = font + 12 + 16 * i;
    if (!inBounds(record, 16)) return null;
    if (view.getUint32(record) === 0x6e616d65 /* 'name' */) nameTable = view.getUint32(record + 8);
  }
  if (nameTable < 0 || !inBounds(nameTable, 6)) return null;
  const count = view.getUint16(nameTable + 2);
  const strings = nameTable + view.getUint16(nameTable + 4);
  const found = new Map<number, string>();
  for (let i = 0; i < count; i++) {
    const record = nameTable + 6 + 12 * i;
    if (!inBounds(record, 12)) return null;
    const [platform, encoding, , nameId, length, offset] = [0, 2, 4, 6, 8, 10].map((at) => view.getUint16(record + at)) as [number, number, number, number, number, number];
    if ((nameId !== TYPOGRAPHIC_FAMILY && nameId !== FAMILY) || !inBounds(strings + offset, length)) continue;
    const raw = bytes.subarray(strings + offset, strings + offset + length);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    const macRoman = platform === 1 && encoding === 0;
    if (!unicode && !macRoman) continue;
    const text = unicode ? utf16be(raw) : String.fromCharCode(...raw);
    // Windows/Unicode records first: they are the ones every renderer reads
    if (text.trim() !== '' && (!found.has(nameId) || unicode)) found.set(nameId, text.trim());
  }
  return found.get(TYPOGRAPHIC_FAMILY) ?? found.get(FAMILY) ?? null;
}

function utf16be(raw: Uint8Array): string {
  let text = '';
  for (let i = 0; i + 1 < raw.length; i += 2) text += String.fromCharCode((raw[i]! << 8) | raw[i + 1]!);
  return text;
}
