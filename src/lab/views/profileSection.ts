/** The run view's Profile section: a --profile build's counts per layer and per op type, and the sum check. */
import type { RunReport } from '../../common/types';
import { formatInteger } from '../../common/report/format';
import { profileByLayer, profileByOp, profileSum } from '../model/profile';
import { barChart } from './barChart';
import { button, Child, h, keyValueTable } from './dom';

/** Layers shown before "Show all". */
const FIRST_LAYERS = 25;

export function profileSection(report: RunReport): HTMLElement | null {
  const profile = report.profile;
  const sum = profileSum(report);
  if (!profile || !sum) {
    return null;
  }
  const unit = profile.unit === 'instructions' ? 'guest instructions' : 'ns';
  const layers = profileByLayer(profile);
  const ops = profileByOp(profile);
  const rows: [string, Child, string?][] = [[`sum of the ${profile.steps.length} steps`, h('strong', {}, `${formatInteger(sum.steps)} ${unit}`), profile.how]];
  if (sum.whole !== null && sum.ratio !== null) {
    const outside = sum.whole - sum.steps;
    rows.push(
      ['whole invoke', `${formatInteger(sum.whole)} ${unit}`, report.guest_instructions?.how],
      [
        'steps / whole',
        h(
          'span',
          Math.abs(1 - sum.ratio) <= 0.01 ? 'jp-edgespec-ok' : 'jp-edgespec-warn',
          `${sum.ratio.toFixed(4)} · ${formatInteger(Math.abs(outside))} ${outside >= 0 ? 'outside the steps' : 'more in the steps than in the invoke'}`
        )
      ]
    );
  } else {
    rows.push(['whole invoke', profile.unit === 'ns' ? 'not counted: a clock profile (host, linux) has no instruction count' : 'not measured by this run']);
  }
  const layerChart = h('div', 'jp-edgespec-profile-layers', barChart(layers.slice(0, FIRST_LAYERS), unit, `${unit} per layer, largest first; share of the steps' sum`));
  const more =
    layers.length > FIRST_LAYERS
      ? button(`Show all ${layers.length} layers`, () => {
          layerChart.replaceChildren(barChart(layers, unit, `${unit} per layer, largest first; share of the steps' sum`));
          more?.remove();
        })
      : null;
  return h(
    'section',
    'jp-edgespec-section jp-edgespec-profile',
    h('h4', {}, 'Profile'),
    h(
      'div',
      { className: 'jp-edgespec-profile-sum', attrs: { 'data-steps': String(sum.steps), 'data-whole': sum.whole === null ? '' : String(sum.whole) } },
      keyValueTable(rows)
    ),
    h('h5', {}, 'Per op type'),
    barChart(ops, unit, `${unit} per op type, summed over its steps; share of the steps' sum`),
    h('h5', {}, 'Per layer'),
    layerChart,
    more
  );
}
