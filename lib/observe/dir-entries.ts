// A folder's entry names with their types, as readdirSync({ withFileTypes: true }) gives them but
// without a Dirent object per entry: Node's readdir binding answers two arrays, names and types,
// and readdirSync builds the Dirents from them. At 241,605 uploads the Dirents, and collecting
// them, were ~70 ms of the ~300 ms each of a build's two listings took (bench/results/incremental.md).
//
// The binding is internal to Node (fs-binding.ts), so it is used only when it checks out, once per
// thread: on lib/ (folders and files) it must give readdirSync's names and types, in the same
// order, and a missing folder must throw ENOENT. An entry of unknown type (a filesystem that does
// not report types) sends the whole folder to readdirSync, which finds its type with lstat.
import { constants, type Dirent, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkedBinding } from './fs-binding.js';

export type EntryKind = 'file' | 'folder' | 'symlink' | 'other';

/** The entries of `path`, in readdir's order; throws what readdirSync throws. */
export type DirEntries = (path: string) => { names: string[]; kinds: EntryKind[] };

type BindingReaddir = (path: string, encoding: 'utf8', withTypes: true) => [string[], number[]];

/** libuv's entry types, which Node exports in fs.constants (its typings do not list them). */
const UV = constants as unknown as Record<
  'UV_DIRENT_UNKNOWN' | 'UV_DIRENT_FILE' | 'UV_DIRENT_DIR' | 'UV_DIRENT_LINK',
  number | undefined
>;

function kindOfType(type: number): EntryKind | undefined {
  if (type === UV.UV_DIRENT_FILE) return 'file';
  if (type === UV.UV_DIRENT_DIR) return 'folder';
  if (type === UV.UV_DIRENT_LINK) return 'symlink';
  return type === UV.UV_DIRENT_UNKNOWN ? undefined : 'other';
}

function kindOfDirent(d: Dirent): EntryKind {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'folder';
  return d.isSymbolicLink() ? 'symlink' : 'other';
}

function fromReaddirSync(path: string) {
  const dirents = readdirSync(path, { withFileTypes: true });
  return { names: dirents.map((d) => d.name), kinds: dirents.map(kindOfDirent) };
}

function fromBinding(readdir: BindingReaddir): DirEntries {
  return (path) => {
    const [names, types] = readdir(path, 'utf8', true);
    const kinds: EntryKind[] = new Array(types.length);
    for (let i = 0; i < types.length; i++) {
      const kind = kindOfType(types[i]!);
      if (kind === undefined) return fromReaddirSync(path);
      kinds[i] = kind;
    }
    return { names, kinds };
  };
}

/** The binding's entries if they agree with readdirSync's on lib/ and on a missing folder. */
function fastEntries(): DirEntries | undefined {
  const lib = dirname(dirname(fileURLToPath(import.meta.url)));
  return checkedBinding<BindingReaddir, DirEntries>(
    'readdir',
    fromBinding,
    (fast) => {
      const a = fast(lib);
      const b = fromReaddirSync(lib);
      return (
        a.names.length === b.names.length &&
        a.names.every((name, i) => name === b.names[i] && a.kinds[i] === b.kinds[i])
      );
    },
    (fast) => fast(`${lib}/.missing-folder`),
  );
}

let chosen: DirEntries | undefined;

/** How this thread lists folders: the binding when it checks out, else readdirSync. */
export function dirEntries(): DirEntries {
  chosen ??= fastEntries() ?? fromReaddirSync;
  return chosen;
}

/** readdirSync's entries, for the test that compares the two. */
export const dirEntriesSlow: DirEntries = fromReaddirSync;

/** Whether this thread lists through the binding (for the test that it is used here). */
export function dirEntriesAreFast(): boolean {
  return dirEntries() !== fromReaddirSync;
}
