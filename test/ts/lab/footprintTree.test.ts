import {
  ancestry,
  buildSideTree,
  bytesByKind,
  bytesBySource,
  findById,
  leaves,
  searchTree,
  tableRows,
  UNATTRIBUTED,
  bytesByFamily,
  sourceFamily,
  walk,
  withoutKind
} from '../../../src/common/report/footprintTree';
import { formatShare } from '../../../src/common/report/format';
import { sampleFootprint } from './fixtures';

describe('buildSideTree', () => {
  const flash = buildSideTree(sampleFootprint(), 'flash');

  it('keeps the side total and makes every group the sum of its children', () => {
    expect(flash.bytes).toBe(10000);
    for (const item of walk(flash)) {
      if (item.children.length > 0) {
        expect(item.children.reduce((sum, child) => sum + child.bytes, 0)).toBe(item.bytes);
      }
    }
    expect(leaves(flash).reduce((sum, leaf) => sum + leaf.bytes, 0)).toBe(10000);
  });

  it('shows bytes a group declares beyond its children as an unattributed leaf', () => {
    const libc = flash.children.find(child => child.name === 'libc')!;
    expect(libc.children.map(child => [child.name, child.bytes])).toEqual([
      ['memcpy', 300],
      [UNATTRIBUTED, 100]
    ]);
  });

  it('gives groups the kind that holds most of their bytes', () => {
    const kernels = flash.children.find(child => child.name === 'kernels')!;
    expect(kernels.kind).toBe('code');
    expect(flash.children[0].kind).toBe('weights');
    expect(flash.kind).toBe('weights');
  });

  it('assigns index-path ids that findById and ancestry resolve', () => {
    const conv = flash.children[1].children[0];
    expect(conv.id).toBe('1/0');
    expect(conv.path).toEqual(['kernels', 'conv2d.c']);
    expect(findById(flash, '1/0/1')!.name).toBe('.rodata');
    expect(findById(flash, '9/9')).toBeUndefined();
    expect(ancestry(flash, '1/0/1').map(item => item.name)).toEqual(['flash', 'kernels', 'conv2d.c', '.rodata']);
    expect(ancestry(flash, '').map(item => item.name)).toEqual(['flash']);
  });

  it('switches to RAM, and yields an empty side when the footprint has none', () => {
    const footprint = sampleFootprint();
    const ram = buildSideTree(footprint, 'ram');
    expect(ram.bytes).toBe(5000);
    expect(leaves(ram).map(leaf => leaf.kind)).toEqual(['arena', 'stack', 'bss']);
    footprint.tree.children = footprint.tree.children!.filter(child => child.name !== 'ram');
    const empty = buildSideTree(footprint, 'ram');
    expect(empty.bytes).toBe(0);
    expect(empty.children).toEqual([]);
  });
});

describe('searchTree', () => {
  const flash = buildSideTree(sampleFootprint(), 'flash');

  it('returns null for an empty query so nothing is dimmed', () => {
    expect(searchTree(flash, '   ')).toBeNull();
  });

  it('matches path, source and kind, case-insensitively, and lights ancestors and descendants', () => {
    const result = searchTree(flash, 'CONV2D')!;
    // kernels/conv2d.c (path) and its leaves (path + source kernel:conv2d.c)
    expect([...result.matched].sort()).toEqual(['1/0', '1/0/0', '1/0/1']);
    expect(result.lit.has('')).toBe(true);
    expect(result.lit.has('1')).toBe(true);
    expect(result.lit.has('1/1')).toBe(false);
    expect(result.bytes).toBe(1500);
  });

  it('requires every term', () => {
    const result = searchTree(flash, 'kernel rodata')!;
    expect([...result.matched]).toEqual(['1/0/1']);
    expect(result.bytes).toBe(200);
    expect(searchTree(flash, 'conv2d libc')!.matched.size).toBe(0);
  });

  it('counts a match below a matching group once', () => {
    const result = searchTree(flash, 'weights')!;
    expect(result.bytes).toBe(6000);
  });
});

describe('tableRows', () => {
  const flash = buildSideTree(sampleFootprint(), 'flash');

  it('lists leaves biggest first with their place and share of the side', () => {
    const rows = tableRows(flash, '', '', formatShare);
    expect(rows.map(row => row.bytes)).toEqual([3500, 2000, 1300, 1000, 900, 500, 300, 200, 200, 100]);
    expect(rows[0]).toMatchObject({ name: 'features.0.conv.weight', where: 'weights', share: '35 %', kind: 'weights' });
    expect(rows.find(row => row.name === '.rodata')!.where).toBe('kernels › conv2d.c');
  });

  it('limits rows to the zoomed group and to the search', () => {
    expect(tableRows(flash, '1', '', formatShare).map(row => row.name)).toEqual(['.text.es_conv2d_f32', 'gemm.c', '.rodata']);
    expect(tableRows(flash, '', 'libc', formatShare).map(row => row.name)).toEqual(['memcpy', UNATTRIBUTED]);
    expect(tableRows(flash, '1', 'libc', formatShare)).toEqual([]);
  });
});

describe('bytesBySource / bytesByKind', () => {
  it('sums leaves per source and per kind', () => {
    const flash = buildSideTree(sampleFootprint(), 'flash');
    expect(bytesBySource(flash).slice(0, 3)).toEqual([
      { source: 'layer:features.0', bytes: 3500 },
      { source: 'layer:features.1', bytes: 2000 },
      { source: 'kernel:conv2d.c', bytes: 1500 }
    ]);
    // the unattributed libc bytes have no source of their own
    expect(bytesBySource(flash).find(entry => entry.source === '(no source)')!.bytes).toBe(100);
    expect(bytesByKind(flash)).toEqual([
      { kind: 'weights', bytes: 6000 },
      { kind: 'code', bytes: 3500 },
      { kind: 'rodata', bytes: 400 },
      { kind: 'other', bytes: 100 }
    ]);
  });
});

describe('the flash − weights side', () => {
  it('drops weight leaves and groups left empty, keeping every other byte', () => {
    const footprint = sampleFootprint();
    const overhead = buildSideTree(footprint, 'overhead');
    expect(overhead.bytes).toBe(10000 - 6000);
    expect(overhead.children.map(child => child.name)).toEqual(['kernels', 'platform', 'libc', 'ELF headers']);
    expect(leaves(overhead).some(leaf => leaf.kind === 'weights')).toBe(false);
    // ids are renumbered so they resolve in the pruned tree
    expect(findById(overhead, '0/0/1')!.name).toBe('.rodata');
    expect(ancestry(overhead, '0/0').map(item => item.name)).toEqual(['flash', 'kernels', 'conv2d.c']);
  });

  it('keeps a group that still holds other kinds', () => {
    const flash = buildSideTree(sampleFootprint(), 'flash');
    const withoutCode = withoutKind(flash, 'code');
    expect(withoutCode.children.map(child => child.name)).toEqual(['weights', 'kernels', 'libc', 'ELF headers']);
    expect(withoutCode.children[1].bytes).toBe(200);
    expect(withoutCode.bytes).toBe(6000 + 200 + 100 + 200);
  });
});

describe('source families', () => {
  it('classify sources and colour groups by their biggest family', () => {
    expect(sourceFamily('layer:features.3.conv.1')).toBe('weights');
    expect(sourceFamily('kernel:gemm.c')).toBe('kernels');
    expect(sourceFamily('libc')).toBe('libc');
    expect(sourceFamily('libgcc:udivti3')).toBe('libgcc');
    expect(sourceFamily('libcompat')).toBe('other');
    expect(sourceFamily(undefined)).toBe('other');
    const flash = buildSideTree(sampleFootprint(), 'flash');
    expect(flash.children.map(child => child.family)).toEqual(['weights', 'kernels', 'platform', 'libc', 'elf']);
    expect(bytesByFamily(flash)).toEqual([
      { family: 'weights', bytes: 6000 },
      { family: 'kernels', bytes: 2500 },
      { family: 'platform', bytes: 900 },
      { family: 'libc', bytes: 300 },
      { family: 'elf', bytes: 200 },
      { family: 'other', bytes: 100 }
    ]);
  });
});
