// Why Anchor's Borsh coder can read the program's zero-copy accounts: computes each struct's
// `repr(C)` layout from the IDL (size, alignment, field offsets) next to its packed Borsh layout.
// They agree exactly when no field needs implicit alignment padding and the struct has no tail
// padding, which is what the program guarantees with explicit `_padding` fields.
import type { Idl } from "@coral-xyz/anchor";

type IdlType = NonNullable<Idl["types"]>[number]["type"];
type FieldType = unknown;

export interface StructLayout {
  name: string;
  /** `size_of` under repr(C). */
  size: number;
  align: number;
  /** Bytes Borsh uses (fields back to back). */
  borshSize: number;
  /** Field name -> repr(C) offset. */
  offsets: Record<string, number>;
  /** Implicit padding repr(C) inserts: where Borsh and the Pod layout would disagree. */
  implicitPadding: string[];
}

const PRIMITIVES: Record<string, [size: number, align: number]> = {
  bool: [1, 1],
  u8: [1, 1],
  i8: [1, 1],
  u16: [2, 2],
  i16: [2, 2],
  u32: [4, 4],
  i32: [4, 4],
  f32: [4, 4],
  u64: [8, 8],
  i64: [8, 8],
  f64: [8, 8],
  u128: [16, 16],
  i128: [16, 16],
  pubkey: [32, 1],
};

/** repr(C) layout of a named struct type of the IDL (names as in that IDL). */
export function structLayout(idl: Idl, name: string): StructLayout {
  const types = idl.types ?? [];
  const cache = new Map<string, StructLayout>();

  const layoutOf = (typeName: string): StructLayout => {
    const cached = cache.get(typeName);
    if (cached) return cached;
    const def = types.find((t) => t.name === typeName);
    if (!def) throw new Error(`type ${typeName} not in the IDL`);
    const ty = def.type as IdlType;
    if (ty.kind !== "struct" || !ty.fields || typeof ty.fields[0] !== "object") {
      throw new Error(`${typeName} is not a struct with named fields`);
    }
    let offset = 0;
    let align = 1;
    let borshSize = 0;
    const offsets: Record<string, number> = {};
    const implicitPadding: string[] = [];
    for (const field of ty.fields as { name: string; type: FieldType }[]) {
      const [size, fieldAlign, fieldBorsh, innerPadding] = sizeOf(field.type);
      implicitPadding.push(...innerPadding.map((p) => `${typeName}.${field.name}: ${p}`));
      if (offset % fieldAlign !== 0) {
        const pad = fieldAlign - (offset % fieldAlign);
        implicitPadding.push(`${typeName}: ${pad} byte(s) before ${field.name} at ${offset}`);
        offset += pad;
      }
      offsets[field.name] = offset;
      offset += size;
      borshSize += fieldBorsh;
      align = Math.max(align, fieldAlign);
    }
    if (offset % align !== 0) {
      const pad = align - (offset % align);
      implicitPadding.push(`${typeName}: ${pad} byte(s) of tail padding`);
      offset += pad;
    }
    const layout = { name: typeName, size: offset, align, borshSize, offsets, implicitPadding };
    cache.set(typeName, layout);
    return layout;
  };

  // [repr(C) size, align, borsh size, implicit padding inside]
  const sizeOf = (t: FieldType): [number, number, number, string[]] => {
    if (typeof t === "string") {
      const p = PRIMITIVES[t];
      if (!p) throw new Error(`type ${t} has no fixed layout`);
      return [p[0], p[1], p[0], []];
    }
    const obj = t as Record<string, unknown>;
    if ("array" in obj) {
      const [inner, len] = obj.array as [FieldType, number];
      const [size, align, borsh, pad] = sizeOf(inner);
      return [size * len, align, borsh * len, pad];
    }
    if ("defined" in obj) {
      const l = layoutOf((obj.defined as { name: string }).name);
      return [l.size, l.align, l.borshSize, l.implicitPadding];
    }
    throw new Error(`type ${JSON.stringify(t)} has no fixed layout`);
  };

  return layoutOf(name);
}
