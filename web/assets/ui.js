// DOM helpers shared by the storefront and the admin console. Everything from the API goes
// into the page as text (text nodes, textContent, attribute values), never as HTML.

export const PLACEHOLDER_IMAGE = new URL('./placeholder.svg', import.meta.url).href;

// el('a', { href: '/x', class: 'btn' }, 'text', childNode, ...). Attributes whose value is
// null, undefined or false are left out; `on` maps event names to listeners.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'on') {
      for (const [event, listener] of Object.entries(value)) node.addEventListener(event, listener);
    } else if (name === 'text') {
      node.textContent = String(value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

const priceFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
export const formatPrice = (amount) => priceFormat.format(Number(amount));

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC',
});
export const formatDate = (iso) => `${dateFormat.format(new Date(iso))} UTC`;

export function stockLabel(stock) {
  if (stock <= 0) return { text: 'Out of stock', className: 'stock stock-out' };
  if (stock <= 5) return { text: `Only ${stock} left`, className: 'stock stock-low' };
  return { text: 'In stock', className: 'stock stock-in' };
}

export const statusLabel = (status) => status.charAt(0).toUpperCase() + status.slice(1);

// The image for a product: its uploaded image or image_url (same origin or https), else the
// placeholder; a broken image falls back to the placeholder too.
export function productImage(product, className) {
  const url = product.image_url;
  const usable = typeof url === 'string' && (url.startsWith('/') || url.startsWith('https://'));
  const image = el('img', {
    src: usable ? url : PLACEHOLDER_IMAGE,
    alt: usable ? product.name : `${product.name} (no photo yet)`,
    class: className,
    loading: 'lazy',
    width: 400,
    height: 300,
  });
  image.addEventListener('error', () => {
    if (image.src !== PLACEHOLDER_IMAGE) {
      image.src = PLACEHOLDER_IMAGE;
      image.alt = `${product.name} (photo unavailable)`;
    }
  }, { once: true });
  return image;
}

// An alert box for a problem: its title in bold, the detail below, and any field errors that no
// field of the form shows. role=alert so screen readers announce it.
export function problemBox(problem, unshownErrors = problem.errors || {}) {
  const box = el('div', { class: 'alert alert-error', role: 'alert' },
    el('strong', {}, problem.title || 'Something went wrong'));
  if (problem.detail) box.append(el('p', {}, problem.detail));
  if (problem.retryAfter) {
    box.append(el('p', {}, `Try again in ${describeSeconds(problem.retryAfter)}.`));
  }
  const rest = Object.entries(unshownErrors);
  if (rest.length) {
    box.append(el('ul', {}, rest.map(([field, message]) => el('li', {}, `${field}: ${message}`))));
  }
  return box;
}

export function describeSeconds(seconds) {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

export const noticeBox = (text) => el('div', { class: 'alert alert-ok', role: 'status' }, text);

// A labelled form control; the message slot (id `${id}-error`) is where field errors appear.
export function field(labelText, control, hint) {
  const id = control.id;
  const parts = [el('label', { for: id }, labelText), control];
  const describedBy = [];
  if (hint) {
    parts.push(el('p', { class: 'hint', id: `${id}-hint` }, hint));
    describedBy.push(`${id}-hint`);
  }
  parts.push(el('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
  describedBy.push(`${id}-error`);
  control.setAttribute('aria-describedby', describedBy.join(' '));
  return el('div', { class: 'field' }, parts);
}

export function clearFormErrors(form) {
  for (const slot of form.querySelectorAll('.field-error')) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) {
    control.removeAttribute('aria-invalid');
  }
  const alert = form.querySelector(':scope > .form-alert');
  if (alert) alert.replaceChildren();
}

// Shows a problem on a form: each field error next to the control whose name it names, the
// rest (and the title/detail) in the form's alert slot. Focuses the first invalid control.
export function showFormProblem(form, problem) {
  clearFormErrors(form);
  const unshown = {};
  let first = null;
  for (const [name, message] of Object.entries(problem.errors || {})) {
    const control = form.elements.namedItem(name);
    // Looked up inside the form: it may not be in the document yet.
    const slot = control && control.id ? form.querySelector(`[id="${control.id}-error"]`) : null;
    if (!slot) {
      unshown[name] = message;
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    slot.textContent = message;
    slot.hidden = false;
    first = first || control;
  }
  let alert = form.querySelector(':scope > .form-alert');
  if (!alert) {
    alert = el('div', { class: 'form-alert' });
    form.prepend(alert);
  }
  alert.replaceChildren(problemBox(problem, unshown));
  if (first) {
    first.focus();
  } else {
    alert.firstChild.setAttribute('tabindex', '-1');
    alert.firstChild.focus();
  }
}

// Runs `action` with the form's submit button disabled; the returned promise settles with it.
export async function whileBusy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// Moves focus to the page's main heading after a client-side navigation, so keyboard and
// screen-reader users start reading at the new content.
export function focusHeading(root) {
  const heading = root.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Follows a plain click on a same-origin link to a page that `ownsPath` says this script renders
// itself with `navigate` instead of a page load (modified clicks, other windows and in-page
// anchors keep the browser's behaviour).
export function routeLinks(ownsPath, navigate) {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href]');
    if (!link || event.defaultPrevented || event.button !== 0 || link.target ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !ownsPath(url.pathname)) return;
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
