/** The image against a generic stack (framework + Python + OS): log-scale bars, each with how it was measured. */
import type { Footprint } from '../../common/types';
import { formatBytes } from '../../common/report/format';
import { compareWithReferenceStack, formatTimes } from '../../common/report/referenceStack';
import { h } from './dom';

export function renderStackSection(footprint: Footprint): HTMLElement {
  const comparison = compareWithReferenceStack(footprint);
  const section = h('section', 'jp-edgespec-section jp-edgespec-stack');
  section.append(h('h4', {}, 'The image against a generic stack'));
  if (!comparison) {
    section.append(h('div', 'jp-edgespec-note', 'This footprint carries no reference stack measurement.'));
    return section;
  }
  if (comparison.timesSmaller !== null) {
    section.append(
      h('p', 'jp-edgespec-stack-lead', `${footprint.linux_vm ? 'What boots (kernel + initramfs) is' : 'The image is'} ${formatTimes(comparison.timesSmaller)} smaller than framework + Python + OS. Log scale.`)
    );
  }
  const rows = h('div', 'jp-edgespec-stack-rows');
  for (const bar of comparison.bars) {
    rows.append(
      h(
        'div',
        { className: `jp-edgespec-stack-row${bar.isImage ? ' jp-mod-image' : ''}${bar.isSum ? ' jp-mod-sum' : ''}` },
        h('div', 'jp-edgespec-stack-name', bar.name),
        h(
          'div',
          'jp-edgespec-stack-track',
          h('div', { className: 'jp-edgespec-stack-bar', attrs: { style: `width:${(bar.fraction * 100).toFixed(2)}%` } })
        ),
        h('div', 'jp-edgespec-stack-bytes', formatBytes(bar.bytes)),
        h('div', 'jp-edgespec-stack-times', bar.isImage ? '' : formatTimes(bar.timesImage)),
        h('div', 'jp-edgespec-stack-how', bar.how)
      )
    );
  }
  const axis = h('div', 'jp-edgespec-stack-axis');
  for (const tick of comparison.ticks) {
    axis.append(
      h('span', { className: 'jp-edgespec-stack-tick', attrs: { style: `left:${(tick.fraction * 100).toFixed(2)}%` } }, formatBytes(tick.bytes))
    );
  }
  rows.append(h('div', 'jp-edgespec-stack-row jp-mod-axis', h('div'), axis));
  section.append(rows);
  return section;
}
