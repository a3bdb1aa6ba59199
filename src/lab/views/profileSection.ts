/** The run view's Profile section: a --profile build's counts per layer and per op type, and the sum check. */
import type { RunReport } from '../../common/types';
import { formatCount, formatInteger } from '../../common/report/format';
import { profileByLayer, profileByOp, profileSum } from '../model/profile';
import { barChart } from './barChart';
import { button, h } from './dom';

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
  const sumLine =
    sum.whole !== null && sum.ratio !== null
      ? `The ${profile.steps.length} steps sum to ${formatInteger(sum.steps)} ${unit}; the whole invoke counted ${formatInteger(sum.whole)} ` +
        `(${report.guest_instructions?.how ?? 'guest_instructions'}): ratio ${sum.ratio.toFixed(4)}, ` +
        `${formatCount(Math.abs(sum.whole - sum.steps))} ${sum.whole >= sum.steps ? 'outside the steps' : 'more in the steps'}.`
      : `The ${profile.steps.length} steps sum to ${formatInteger(sum.steps)} ${unit}` +
        (profile.unit === 'ns' ? ' (a clock on the host: no whole-invoke instruction count to compare with).' : '; this run has no whole-invoke count.');
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
    h('div', { className: 'jp-edgespec-profile-sum', attrs: { 'data-steps': String(sum.steps), 'data-whole': sum.whole === null ? '' : String(sum.whole) } }, sumLine),
    h('div', 'jp-edgespec-note', profile.how),
    h('h5', {}, 'Per op type'),
    barChart(ops, unit, `${unit} per op type, summed over its steps; share of the steps' sum`),
    h('h5', {}, 'Per layer'),
    layerChart,
    more
  );
}
