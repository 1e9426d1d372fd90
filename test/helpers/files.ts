import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A fresh temporary directory; `write(name, content)` puts a file there and returns its path. */
export function tempFiles(prefix: string): { dir: string; write(name: string, content: string | Uint8Array): string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    write(name, content) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return file;
    },
  };
}

/**
 * The bytes of a .npy file as numpy writes it (magic, version, little-endian header length, the header
 * dict padded with spaces to a multiple of 64 and ended by a newline, then the data).
 */
export function npyBytes(descr: string, shape: readonly number[], data: ArrayBufferView, opts: { fortran?: boolean; version?: number } = {}): Uint8Array {
  const version = opts.version ?? 1;
  const pre = version === 1 ? 10 : 12;
  const dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const header = `${dict}${' '.repeat(63 - ((pre + dict.length) % 64))}\n`;
  const out = new Uint8Array(pre + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pre + header.length);
  return out;
}
