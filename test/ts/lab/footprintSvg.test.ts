import { buildSideTree } from '../../../src/common/report/footprintTree';
import { FAMILY_COLORS, renderFootprintSVG } from '../../../src/common/report/footprintSvg';
import { footprintStaticHtml, runStaticHtml, traceStaticHtml } from '../../../src/lab/model/staticHtml';
import { annularSectorPath, arcVisible, partitionSide, placeLabel, shortLabel, zoomedBox } from '../../../src/lab/model/sunburst';
import { sampleFootprint, sampleRun, sampleTrace } from './fixtures';

describe('sunburst geometry', () => {
  const tree = partitionSide(buildSideTree(sampleFootprint(), 'flash'));

  it('gives each item an angle proportional to its bytes', () => {
    const weights = tree.children!.find(node => node.data.name === 'weights')!;
    expect(weights.x1 - weights.x0).toBeCloseTo((2 * Math.PI * 6000) / 10000);
    expect(tree.children![0].data.name).toBe('weights'); // biggest first
    expect(weights.y0).toBe(1);
  });

  it('zooms so the focus fills the circle', () => {
    const kernels = tree.children!.find(node => node.data.name === 'kernels')!;
    const conv = kernels.children!.find(node => node.data.name === 'conv2d.c')!;
    expect(zoomedBox(kernels, kernels)).toMatchObject({ x0: 0, y0: 0 });
    expect(zoomedBox(kernels, kernels).x1).toBeCloseTo(2 * Math.PI);
    const box = zoomedBox(conv, kernels);
    expect(box.x1 - box.x0).toBeCloseTo((2 * Math.PI * 1500) / 2500);
    expect(box.y0).toBe(1);
    expect(arcVisible(box)).toBe(true);
    const outside = zoomedBox(tree.children![0], kernels);
    expect(arcVisible(outside)).toBe(false);
  });
});

describe('renderFootprintSVG', () => {
  const svg = renderFootprintSVG(sampleFootprint());

  it('is a standalone SVG with one arc per visible item and a tooltip each', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    // flash: 5 top groups + 3 weights + 2 kernels + 2 conv2d.c + 2 libc = 14;
    // flash − weights: 4 groups + 2 kernels + 2 conv2d.c + 2 libc = 10; ram: 3
    expect(svg.match(/<path /g)!.length).toBe(27);
    expect(svg).toContain('<title>weights › features.0.conv.weight\n3.42 KiB (35 %)\nsource: layer:features.0\nkind: weights</title>');
    expect(svg).toContain(`fill="${FAMILY_COLORS.model}"`); // the arena belongs to the model
    expect(svg).toContain('9.77 KiB');
  });

  it('escapes names', () => {
    const footprint = sampleFootprint();
    footprint.tree.children![0].children![4].name = '<script>alert(1)</script>';
    const escaped = renderFootprintSVG(footprint);
    expect(escaped).not.toContain('<script>');
    expect(escaped).toContain('&lt;script&gt;');
  });

  it('is deterministic', () => {
    expect(renderFootprintSVG(sampleFootprint())).toBe(svg);
  });
});

describe('static HTML fallbacks', () => {
  it('footprint: totals with how, the chart, sources and the reference stack', () => {
    const html = footprintStaticHtml(sampleFootprint());
    expect(html).toContain('edgespec footprint: tiny_cnn · qemu-virt · float32');
    expect(html).toContain('st_size of image.elf');
    expect(html).toContain('<svg');
    expect(html).toContain('weights (all layers)');
    expect(html).toContain('kernel:conv2d.c');
    expect(html).toContain('du -sb site-packages/torch');
    const trimmed = footprintStaticHtml(sampleFootprint(), 2);
    // 6 sources around the weights: 2 listed, 4 folded
    expect(trimmed).toContain('4 more sources');
  });

  it('trace: unsupported ops in a banner, then the op table', () => {
    const html = traceStaticHtml(sampleTrace());
    expect(html).toContain('Unsupported ops: aten.sort.default');
    expect(html.indexOf('Unsupported ops')).toBeLessThan(html.indexOf('<table'));
    expect(html).toContain('1×3×32×32 float32');
  });

  it('run: verdict, agreement and numbers with how', () => {
    const html = runStaticHtml(sampleRun());
    expect(html).toContain('The image agrees with the framework');
    expect(html).toContain('QEMU -icount');
    expect(html).toContain('0.5, -1.25, 3');
  });
});

describe('annularSectorPath', () => {
  it('draws a quarter ring with both arcs and a full ring as two circles', () => {
    expect(annularSectorPath(0, Math.PI / 2, 10, 20)).toBe('M0.00,-20.00A20,20 0 0 1 20.00,-0.00L10.00,-0.00A10,10 0 0 0 0.00,-10.00Z');
    const full = annularSectorPath(0, 2 * Math.PI, 10, 20);
    expect(full.match(/A/g)!.length).toBe(4);
    expect(annularSectorPath(0, 4, 0, 20)).toContain(' 0 1 1 '); // large arc flag past a half turn
    expect(annularSectorPath(0, 1, 0, 20).endsWith('L0,0Z')).toBe(true);
  });
});

describe('labels', () => {
  it('drop the parent name they repeat and keep the distinctive end', () => {
    expect(shortLabel('features.3.conv.1', 'features.3', 20)).toBe('conv.1');
    expect(shortLabel('features.3x', 'features.3', 20)).toBe('features.3x');
    expect(shortLabel('features.17', null, 8)).toBe('…ures.17');
    expect(shortLabel('abc', null, 2)).toBe('');
    expect(shortLabel('platform (boot, I/O, faults)', null, 12)).toBe('platform (b…');
  });

  it('run along wide arcs, across narrow ones, and not at all on slivers', () => {
    expect(placeLabel({ x0: 0, x1: Math.PI, y0: 1, y1: 2 }, 40)!.along).toBe('arc');
    const narrow = placeLabel({ x0: 0, x1: 0.3, y0: 2, y1: 3 }, 40)!;
    expect(narrow.along).toBe('radius');
    expect(narrow.chars).toBe(6);
    expect(placeLabel({ x0: 0, x1: 0.05, y0: 1, y1: 2 }, 40)).toBeNull();
    expect(placeLabel({ x0: 0, x1: 1, y0: 4, y1: 5 }, 40)).toBeNull(); // outside the visible rings
    // the bottom half is flipped so text reads upright
    expect(placeLabel({ x0: 2.5, x1: 3.8, y0: 1, y1: 2 }, 40)!.transform).toContain('rotate(180)');
  });
});
