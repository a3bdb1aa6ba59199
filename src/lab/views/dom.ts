/** Small helpers to build DOM without a framework. Text always goes in as textContent. */

export type Child = Node | string | null | undefined | false;

export interface ElementOptions {
  className?: string;
  title?: string;
  attrs?: Record<string, string>;
  onClick?: (event: MouseEvent) => void;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions | string = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  const opts: ElementOptions = typeof options === 'string' ? { className: options } : options;
  if (opts.className) {
    element.className = opts.className;
  }
  if (opts.title) {
    element.title = opts.title;
  }
  for (const [name, value] of Object.entries(opts.attrs ?? {})) {
    element.setAttribute(name, value);
  }
  if (opts.onClick) {
    element.addEventListener('click', opts.onClick as EventListener);
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

export function clear(element: Element): void {
  while (element.firstChild) {
    element.removeChild(element.firstChild);
  }
}

export const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {}
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    element.setAttribute(name, String(value));
  }
  return element;
}

/** A button in JupyterLab's style; `busy` disables it while its action runs. */
export function button(
  label: string,
  onClick: () => unknown,
  options: { title?: string; accent?: boolean; className?: string } = {}
): HTMLButtonElement {
  const element = h('button', {
    className: [
      'jp-Button',
      options.accent ? 'jp-mod-accept' : 'jp-mod-reject',
      'jp-mod-styled',
      'jp-edgespec-button',
      options.className ?? ''
    ].join(' '),
    title: options.title,
    attrs: { type: 'button' }
  }, label);
  element.addEventListener('click', async () => {
    element.disabled = true;
    try {
      await onClick();
    } finally {
      element.disabled = false;
    }
  });
  return element;
}

/** A key/value table; values may be nodes. */
export function keyValueTable(rows: [string, Child, string?][], className = ''): HTMLTableElement {
  return h(
    'table',
    `jp-edgespec-kv ${className}`,
    h(
      'tbody',
      {},
      ...rows.map(([key, value, title]) =>
        h('tr', { title }, h('th', {}, key), h('td', {}, value))
      )
    )
  );
}

/** A simple table: header labels, rows of cells, numeric columns right-aligned. */
export function dataTable(
  headers: string[],
  rows: Child[][],
  options: { numeric?: boolean[]; className?: string; rowClass?: (index: number) => string } = {}
): HTMLTableElement {
  const numeric = options.numeric ?? [];
  return h(
    'table',
    `jp-edgespec-table ${options.className ?? ''}`,
    h('thead', {}, h('tr', {}, ...headers.map((header, i) => h('th', numeric[i] ? 'jp-edgespec-num' : '', header)))),
    h(
      'tbody',
      {},
      ...rows.map((cells, index) =>
        h(
          'tr',
          options.rowClass?.(index) ?? '',
          ...cells.map((cell, i) => h('td', numeric[i] ? 'jp-edgespec-num' : '', cell))
        )
      )
    )
  );
}

/** "What went wrong" + "what to do" box used by every view. */
export function errorBox(message: string, hint?: string): HTMLElement {
  return h(
    'div',
    { className: 'jp-edgespec-error', attrs: { role: 'alert' } },
    h('div', 'jp-edgespec-error-message', message),
    hint ? h('div', 'jp-edgespec-error-hint', hint) : null
  );
}
