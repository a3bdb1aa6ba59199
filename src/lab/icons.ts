/** The extension's icons; the jp-icon classes make them follow the theme's colours. */
import { LabIcon } from '@jupyterlab/ui-components';

/** A chip: a rounded body with three pins on each side, hollow inside. */
const CHIP =
  'M7 4h10a3 3 0 0 1 3 3v10a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3zm0 2a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h10' +
  'a1 1 0 0 0 1-1V7a1 1 0 0 0-1-1zM8 1h2v3H8zm3 0h2v3h-2zm3 0h2v3h-2zM8 20h2v3H8zm3 0h2v3h-2zm3 0h2v3h-2z' +
  'M1 8h3v2H1zm0 3h3v2H1zm0 3h3v2H1zm19-6h3v2h-3zm0 3h3v2h-3zm0 3h3v2h-3z';

export const edgespecIcon = new LabIcon({
  name: 'edgespec:chip',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    `<path class="jp-icon3" fill="#616161" fill-rule="evenodd" d="${CHIP}"/>` +
    '<rect class="jp-icon-brand1" fill="#1976d2" x="9" y="9" width="6" height="6" rx="1"/></svg>'
});

/** The chip with a pulse through it: "capture what this cell runs". */
export const traceIcon = new LabIcon({
  name: 'edgespec:trace',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    `<path class="jp-icon3" fill="#616161" fill-rule="evenodd" d="${CHIP}"/>` +
    '<path class="jp-icon-brand1" stroke="#1976d2" fill-opacity="0" stroke-width="1.8" stroke-linejoin="round" ' +
    'd="M7.5 12.5h2l1.5-3 2 5 1.5-2h2"/></svg>'
});
