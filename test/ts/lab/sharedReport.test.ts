// The footprint report's drawing code is shared (src/common/report): the lab's views, the
// notebook fallback and the footprint.html every build writes. Its sunburst layout needs no
// d3 (the toolchain cannot load d3's ES modules), so it must match d3's partition exactly.
import { partitionRings } from '../../../src/common/report/arcs';
import { footprintReportDocument, footprintStaticHtml } from '../../../src/common/report/footprintHtml';
import { buildSideTree } from '../../../src/common/report/footprintTree';
import { partitionSide } from '../../../src/lab/model/sunburst';
import { sampleFootprint } from './fixtures';

describe('partitionRings lays out a side as d3-hierarchy does', () => {
  test.each(['flash', 'ram', 'overhead'] as const)('%s: same sectors, same order, same angles and rings', side => {
    const root = buildSideTree(sampleFootprint(), side);
    const d3 = partitionSide(root);
    const ours = partitionRings(root);
    expect(ours.height).toBe(d3.height);
    expect(ours.sectors.map(s => [s.item.id, s.depth, s.x0, s.x1, s.y0, s.y1])).toEqual(
      d3.descendants().map(n => [n.data.id, n.depth, n.x0, n.x1, n.y0, n.y1])
    );
  });
});

describe('footprint.html', () => {
  const hostile = '</script><script>alert(1)</script><!--';
  const footprint = { ...sampleFootprint(), model: hostile };
  const html = footprintReportDocument(footprint);

  test('is one document holding the static report the notebook fallback shows', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(footprintStaticHtml(footprint, 40, 'chart'));
    expect(html).toMatch(/<div id="chart"><svg /);
  });

  test('embeds footprint.json whole, and no name can end its script element', () => {
    const scripts = [...html.matchAll(/<script id="footprint-data" type="application\/json">(.*?)<\/script>/gs)];
    expect(scripts).toHaveLength(1);
    expect(JSON.parse(scripts[0][1])).toEqual(footprint);
    expect(scripts[0][1]).not.toContain('<');
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  test('needs no network', () => {
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//);
    expect(html).not.toContain('@import');
    expect(html).not.toContain('url(');
  });
});
