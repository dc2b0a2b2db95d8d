/* global document */

/**
 * Builds an element from a tag, attributes and children. Data never passes through an HTML
 * parser: strings and numbers become text nodes and attributes are set one by one, so a run's
 * error message or a log line shows as text whatever characters it holds.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** Replaces everything inside `element` with `children`. */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
}
