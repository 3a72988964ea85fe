// The storefront: catalog, product pages, account, cart, checkout and orders. Client-side
// routing over real URLs (`/?q=…&page=2`, `/shop/product/<id>`, …) so every view can be shared
// and reloaded; the server answers all of them with this page.
import * as api from './api.js';
import {
  el, replaceChildren, formatPrice, formatDate, stockLabel, statusLabel, productImage,
  problemBox, noticeBox, field, clearFormErrors, showFormProblem, whileBusy, focusHeading,
  newIdempotencyKey, routeLinks,
} from './ui.js';

const main = document.getElementById('main');
const nav = document.getElementById('site-nav');
const PAGE_SIZE = 12;
const FLASH_KEY = 'flaskcart.flash';

// ---- routing ----

const routes = [
  [/^\/$/, catalogView],
  [/^\/shop\/product\/([^/]+)$/, productView],
  [/^\/shop\/cart$/, cartView],
  [/^\/shop\/orders$/, ordersView],
  [/^\/shop\/orders\/([^/]+)$/, orderView],
  [/^\/shop\/login$/, loginView],
  [/^\/shop\/register$/, registerView],
  [/^\/shop\/profile$/, profileView],
];

let renderCount = 0;
let focusAfterRender = null;

export function navigate(url, { replace = false, focusId = null } = {}) {
  const path = new URL(url, location.href).pathname;
  if (path !== '/' && !path.startsWith('/shop/')) {
    // Another page of the site (the admin console, /docs): a real page load.
    if (replace) location.replace(url);
    else location.assign(url);
    return;
  }
  history[replace ? 'replaceState' : 'pushState']({}, '', url);
  focusAfterRender = focusId;
  render();
}

routeLinks((path) => path === '/' || path.startsWith('/shop/'), navigate);
window.addEventListener('popstate', () => render());

async function render() {
  const ticket = ++renderCount;
  renderNav();
  main.setAttribute('aria-busy', 'true');
  let content;
  const route = routes.find(([pattern]) => pattern.test(location.pathname));
  try {
    content = route
      ? await route[1](...location.pathname.match(route[0]).slice(1).map(decodeURIComponent))
      : notFoundView();
  } catch (problem) {
    content = errorView(problem);
  }
  if (ticket !== renderCount) return;  // a later navigation replaced this one
  const flash = sessionStorage.getItem(FLASH_KEY);
  if (flash) {
    sessionStorage.removeItem(FLASH_KEY);
    content.prepend(noticeBox(flash));
  }
  main.replaceChildren(content);
  main.removeAttribute('aria-busy');
  const heading = main.querySelector('h1');
  document.title = `${heading ? heading.textContent : 'Shop'} · FlaskCart`;
  const target = focusAfterRender && document.getElementById(focusAfterRender);
  focusAfterRender = null;
  if (target) target.focus();
  else if (ticket > 1) focusHeading(main);
}

function section(title, ...children) {
  return el('section', { class: 'view' }, el('h1', {}, title), ...children);
}

function notFoundView() {
  return section('Page not found',
    el('p', {}, 'There is nothing at this address. '),
    el('p', {}, el('a', { href: '/' }, 'Back to the catalog')));
}

function errorView(problem) {
  if (problem instanceof api.ApiProblem && problem.status === 404) {
    return section('Not found', problemBox(problem), el('p', {}, el('a', { href: '/' }, 'Back to the catalog')));
  }
  if (problem instanceof api.ApiProblem && problem.status === 401) return loginRequiredView();
  if (!(problem instanceof api.ApiProblem)) console.error(problem);
  return section('Something went wrong', problemBox(problem instanceof api.ApiProblem
    ? problem : { title: 'Unexpected error', detail: String(problem) }));
}

function loginRequiredView() {
  const next = encodeURIComponent(location.pathname + location.search);
  return section('Please log in',
    el('p', {}, 'You need an account for this page. ',
      el('a', { href: `/shop/login?next=${next}` }, 'Log in'), ' or ',
      el('a', { href: `/shop/register?next=${next}` }, 'create an account'), '.'));
}

// ---- header ----

let cartCount = null;

async function refreshCartCount() {
  if (!api.session()) {
    cartCount = null;
  } else {
    try {
      const cart = await api.get('/cart');
      cartCount = cart.items.reduce((sum, item) => sum + item.quantity, 0);
    } catch {
      cartCount = null;
    }
  }
  renderNav();
}

function navLink(href, text, extra = {}) {
  const here = location.pathname === href;
  return el('li', {}, el('a', { href, 'aria-current': here ? 'page' : null, ...extra }, text));
}

function renderNav() {
  const user = api.currentUser();
  const items = [navLink('/', 'Catalog')];
  if (user) {
    items.push(navLink('/shop/cart', cartCount === null ? 'Cart' : `Cart (${cartCount})`,
      { 'data-testid': 'nav-cart' }));
    items.push(navLink('/shop/orders', 'Orders'));
    items.push(navLink('/shop/profile', 'Profile'));
    if (user.role === 'admin') items.push(el('li', {}, el('a', { href: '/admin' }, 'Admin')));
    items.push(el('li', {}, el('button', {
      type: 'button', class: 'link-button',
      on: { click: async () => { await api.logOut(); cartCount = null; navigate('/'); } },
    }, 'Log out')));
  } else {
    items.push(navLink('/shop/login', 'Log in'));
    items.push(navLink('/shop/register', 'Register'));
  }
  items.push(el('li', {}, el('a', { href: '/docs' }, 'API')));
  replaceChildren(nav, el('ul', {}, items));
}

// ---- catalog ----

const SORTS = [
  ['relevance', 'Best match'], ['-created_at', 'Newest first'], ['price', 'Price: low to high'],
  ['-price', 'Price: high to low'], ['name', 'Name: A to Z'], ['-name', 'Name: Z to A'],
];
const FILTERS = ['q', 'category', 'min_price', 'max_price', 'in_stock', 'sort'];

function catalogUrl(params) {
  const clean = new URLSearchParams();
  for (const [key, value] of params) if (value !== '' && value !== null) clean.set(key, value);
  const text = clean.toString();
  return text ? `/?${text}` : '/';
}

async function catalogView() {
  const params = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const key of FILTERS) if (params.get(key)) query.set(key, params.get(key));
  const page = Math.max(1, Number.parseInt(params.get('page') || '1', 10) || 1);
  query.set('page', String(page));
  query.set('limit', String(PAGE_SIZE));

  const [categoryList, result] = await Promise.all([
    api.get('/categories', { auth: false }).catch(() => ({ items: [] })),
    api.get(`/products?${query}`, { auth: false }).catch((problem) => problem),
  ]);
  const categories = categoryList.items;

  const form = filterForm(params, categories);
  const view = section(params.get('q') ? `Results for “${params.get('q')}”` : 'Catalog', form);
  if (result instanceof api.ApiProblem) {
    showFormProblem(form, result);
    return view;
  }
  if (!(result && Array.isArray(result.items))) throw result;
  const pages = Math.max(1, Math.ceil(result.total / result.limit));
  view.append(el('p', { class: 'result-count', role: 'status' },
    result.total === 1 ? '1 product' : `${result.total} products`,
    pages > 1 ? ` · page ${page} of ${pages}` : ''));
  if (result.items.length === 0) {
    view.append(el('p', { class: 'empty' }, 'No products match these filters. ',
      el('a', { href: '/' }, 'Show all products')));
    return view;
  }
  const categoryNames = new Map(categories.map((c) => [c._id, c.name]));
  view.append(el('ul', { class: 'product-grid', 'aria-label': 'Products' },
    result.items.map((product) => productCard(product, categoryNames))));
  view.append(pagination(params, page, pages));
  return view;
}

function filterForm(params, categories) {
  const search = el('input', { id: 'f-q', name: 'q', type: 'search', value: params.get('q') || '',
    maxlength: 200, autocomplete: 'off', placeholder: 'Name or description', list: 'f-q-suggestions' });
  const suggestions = suggestionList(search);
  const category = el('select', { id: 'f-category', name: 'category' },
    el('option', { value: '' }, 'All categories'),
    categories.map((c) => el('option', { value: c._id, selected: params.get('category') === c._id },
      `${c.name} (${c.product_count})`)));
  const minPrice = el('input', { id: 'f-min', name: 'min_price', type: 'number', min: 0, step: '0.01',
    inputmode: 'decimal', value: params.get('min_price') || '' });
  const maxPrice = el('input', { id: 'f-max', name: 'max_price', type: 'number', min: 0, step: '0.01',
    inputmode: 'decimal', value: params.get('max_price') || '' });
  const inStock = el('input', { id: 'f-stock', name: 'in_stock', type: 'checkbox', value: 'true',
    checked: params.get('in_stock') === 'true' });
  const sort = el('select', { id: 'f-sort', name: 'sort' },
    SORTS.map(([value, label]) => el('option', {
      value, selected: (params.get('sort') || defaultSort(params.get('q'))) === value }, label)));

  const form = el('form', { class: 'filters', role: 'search', 'aria-label': 'Search and filter products', novalidate: true },
    el('div', { class: 'filter-search' }, field('Search', search), suggestions,
      el('button', { type: 'submit', class: 'btn btn-primary' }, 'Search')),
    el('div', { class: 'filter-row' },
      field('Category', category),
      field('Min price ($)', minPrice),
      field('Max price ($)', maxPrice),
      field('Sort by', sort),
      el('div', { class: 'field field-check' }, inStock, el('label', { for: 'f-stock' }, 'In stock only')),
      el('a', { href: '/', class: 'btn btn-quiet' }, 'Clear filters')));

  const apply = (focusId) => {
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const key of FILTERS) next.set(key, (data.get(key) || '').toString().trim());
    // A sort the shopper did not pick follows the search: relevance with q, newest without.
    if (!sortPicked || next.get('sort') === defaultSort(next.get('q'))) next.delete('sort');
    navigate(catalogUrl(next), { focusId });
  };
  let sortPicked = params.has('sort');
  sort.addEventListener('change', () => { sortPicked = true; });
  form.addEventListener('submit', (event) => { event.preventDefault(); apply('f-q'); });
  // Choosing from a list or ticking the box applies at once; focus stays on that control.
  for (const control of [category, sort, inStock]) {
    control.addEventListener('change', () => apply(control.id));
  }
  return form;
}

// With search text the service ranks by relevance unless told otherwise.
function defaultSort(q) {
  return q ? 'relevance' : '-created_at';
}

// The search box's drop-down: product names completing what was typed (GET /products/suggest),
// fetched as the shopper types; picking one opens that product.
function suggestionList(input) {
  const list = el('datalist', { id: 'f-q-suggestions' });
  const ids = new Map();
  let timer = null;
  let latest = '';
  input.addEventListener('input', () => {
    const text = input.value.trim();
    if (ids.has(input.value)) {
      navigate(`/shop/product/${ids.get(input.value)}`);
      return;
    }
    clearTimeout(timer);
    if (!text) {
      list.replaceChildren();
      return;
    }
    timer = setTimeout(async () => {
      latest = text;
      const found = await api.get(`/products/suggest?${new URLSearchParams({ q: text, limit: '8' })}`,
        { auth: false }).catch(() => ({ items: [] }));
      if (latest !== text) return;  // an answer to an older keystroke
      ids.clear();
      for (const item of found.items) ids.set(item.name, item._id);
      list.replaceChildren(...found.items.map((item) => el('option', { value: item.name })));
    }, 150);
  });
  return list;
}

function productCard(product, categoryNames) {
  const stock = stockLabel(product.stock);
  const href = `/shop/product/${product._id}`;
  return el('li', { class: 'card', 'data-product-id': product._id },
    el('a', { href, class: 'card-image', tabindex: -1, 'aria-hidden': 'true' }, productImage(product, 'thumb')),
    el('div', { class: 'card-body' },
      el('h2', { class: 'card-title' }, el('a', { href }, product.name)),
      product.category && categoryNames.has(product.category)
        ? el('p', { class: 'card-category' }, categoryNames.get(product.category)) : null,
      el('p', { class: 'price' }, formatPrice(product.price)),
      el('p', { class: stock.className }, stock.text)));
}

function pagination(params, page, pages) {
  if (pages <= 1) return el('div');
  const link = (target, text, rel) => {
    const next = new URLSearchParams(params);
    next.set('page', String(target));
    if (target === 1) next.delete('page');
    return el('a', { href: catalogUrl(next), rel, class: 'btn' }, text);
  };
  return el('nav', { class: 'pagination', 'aria-label': 'Pages' },
    page > 1 ? link(page - 1, '← Previous', 'prev') : el('span'),
    el('span', {}, `Page ${page} of ${pages}`),
    page < pages ? link(page + 1, 'Next →', 'next') : el('span'));
}

// ---- product ----

async function productView(id) {
  const product = await api.get(`/products/${encodeURIComponent(id)}`, { auth: false });
  const stock = stockLabel(product.stock);
  const quantity = el('input', { id: 'quantity', name: 'quantity', type: 'number', min: 1,
    max: Math.max(1, Math.min(product.stock, 1000)), value: 1, inputmode: 'numeric', required: true });
  const add = el('button', { type: 'submit', class: 'btn btn-primary', disabled: product.stock <= 0 },
    product.stock <= 0 ? 'Out of stock' : 'Add to cart');
  const result = el('div', { class: 'add-result' });
  const form = el('form', { class: 'add-form', novalidate: true }, field('Quantity', quantity), add);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    result.replaceChildren();
    if (!api.session()) {
      sessionStorage.setItem(FLASH_KEY, 'Log in or create an account to fill your cart.');
      navigate(`/shop/login?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    const count = Number(quantity.value);
    try {
      await whileBusy(add, () => api.post('/cart/add', { product_id: product._id, quantity: count }));
      result.replaceChildren(noticeBox(`Added ${count} × ${product.name} to your cart. `),
        el('a', { href: '/shop/cart', class: 'btn' }, 'View cart'));
      refreshCartCount();
    } catch (problem) {
      // "only 3 available" is keyed by the product id; show it on the quantity.
      if (problem.errors && problem.errors[product._id]) {
        problem.errors = { ...problem.errors, quantity: problem.errors[product._id] };
        delete problem.errors[product._id];
      }
      showFormProblem(form, problem);
    }
  });

  let categoryName = null;
  if (product.category) {
    categoryName = await api.get(`/categories/${product.category}`, { auth: false })
      .then((c) => c.name).catch(() => null);
  }
  return el('article', { class: 'view product-page' },
    el('p', { class: 'breadcrumb' }, el('a', { href: '/' }, 'Catalog'),
      categoryName ? [' › ', el('a', { href: catalogUrl([['category', product.category]]) }, categoryName)] : null),
    el('div', { class: 'product-layout' },
      productImage(product, 'product-photo'),
      el('div', { class: 'product-info' },
        el('h1', {}, product.name),
        el('p', { class: 'price price-large' }, formatPrice(product.price)),
        el('p', { class: stock.className }, stock.text),
        el('p', { class: 'description' }, product.description || 'No description yet.'),
        form, result)));
}

// ---- account ----

function nextTarget() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  // Only pages of this site: `next=//evil.example` or `/\evil.example` must not lead away.
  const url = new URL(next, location.origin);
  return next.startsWith('/') && url.origin === location.origin ? url.pathname + url.search : '/';
}

function loginView() {
  const email = el('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = el('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, 'Log in');
  const form = el('form', { class: 'stack narrow', novalidate: true },
    field('Email', email), field('Password', password), submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    try {
      await whileBusy(submit, () => api.logIn(email.value.trim(), password.value));
      refreshCartCount();
      navigate(nextTarget(), { replace: true });
    } catch (problem) {
      showFormProblem(form, problem);
    }
  });
  return section('Log in', form,
    el('p', {}, 'New here? ', el('a', { href: `/shop/register${location.search}` }, 'Create an account')));
}

function registerView() {
  const name = el('input', { id: 'reg-name', name: 'name', autocomplete: 'name', required: true, maxlength: 100 });
  const email = el('input', { id: 'reg-email', name: 'email', type: 'email', autocomplete: 'email', required: true });
  const password = el('input', { id: 'reg-password', name: 'password', type: 'password', autocomplete: 'new-password', required: true });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, 'Create account');
  const form = el('form', { class: 'stack narrow', novalidate: true },
    field('Name', name), field('Email', email),
    field('Password', password, '8 to 128 characters.'), submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    try {
      await whileBusy(submit, async () => {
        await api.post('/register', { name: name.value, email: email.value, password: password.value }, { auth: false });
        await api.logIn(email.value.trim(), password.value);
      });
      sessionStorage.setItem(FLASH_KEY, `Welcome, ${api.currentUser().name}! Your account is ready.`);
      refreshCartCount();
      navigate(nextTarget(), { replace: true });
    } catch (problem) {
      showFormProblem(form, problem);
    }
  });
  return section('Create an account', form,
    el('p', {}, 'Already have one? ', el('a', { href: `/shop/login${location.search}` }, 'Log in')));
}

async function profileView() {
  if (!api.session()) return loginRequiredView();
  const user = await api.get('/profile');
  api.updateSessionUser(user);
  const name = el('input', { id: 'p-name', name: 'name', value: user.name, autocomplete: 'name', maxlength: 100 });
  const phone = el('input', { id: 'p-phone', name: 'phone', type: 'tel', value: user.phone, autocomplete: 'tel', maxlength: 32 });
  const address = el('textarea', { id: 'p-address', name: 'address', rows: 3, autocomplete: 'street-address', maxlength: 500 });
  address.value = user.address;
  const save = el('button', { type: 'submit', class: 'btn btn-primary' }, 'Save profile');
  const status = el('div');
  const form = el('form', { class: 'stack narrow', novalidate: true, 'aria-labelledby': 'profile-details' },
    el('h2', { id: 'profile-details' }, 'Your details'),
    el('p', {}, 'Email: ', el('strong', {}, user.email), ` · ${statusLabel(user.role)} since ${formatDate(user.created_at)}`),
    field('Name', name), field('Phone', phone), field('Address', address), save, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    status.replaceChildren();
    try {
      const updated = await whileBusy(save, () => api.put('/profile',
        { name: name.value, phone: phone.value, address: address.value }));
      api.updateSessionUser(updated);
      renderNav();
      status.replaceChildren(noticeBox('Profile saved.'));
    } catch (problem) {
      showFormProblem(form, problem);
    }
  });

  const current = el('input', { id: 'p-current', name: 'current_password', type: 'password', autocomplete: 'current-password' });
  const fresh = el('input', { id: 'p-new', name: 'password', type: 'password', autocomplete: 'new-password' });
  const change = el('button', { type: 'submit', class: 'btn' }, 'Change password');
  const pwStatus = el('div');
  const pwForm = el('form', { class: 'stack narrow', novalidate: true, 'aria-labelledby': 'profile-password' },
    el('h2', { id: 'profile-password' }, 'Password'),
    field('Current password', current), field('New password', fresh, '8 to 128 characters.'), change, pwStatus);
  pwForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(pwForm);
    pwStatus.replaceChildren();
    try {
      await whileBusy(change, () => api.put('/profile', { current_password: current.value, password: fresh.value }));
      current.value = '';
      fresh.value = '';
      pwStatus.replaceChildren(noticeBox('Password changed.'));
    } catch (problem) {
      showFormProblem(pwForm, problem);
    }
  });
  return section('Your profile', form, pwForm);
}

// ---- cart and checkout ----

// One key per checkout attempt; kept only when the attempt got no answer (network failure),
// so retrying it cannot place a second order.
let pendingOrderKey = null;
let placingOrder = false;

async function cartView() {
  if (!api.session()) return loginRequiredView();
  const cart = await api.get('/cart');
  cartCount = cart.items.reduce((sum, item) => sum + item.quantity, 0);
  renderNav();
  if (cart.items.length === 0) {
    return section('Your cart', el('p', { class: 'empty' }, 'Your cart is empty. ',
      el('a', { href: '/' }, 'Browse the catalog')));
  }
  const rows = cart.items.map(cartRow);
  const checkoutStatus = el('div', { class: 'checkout-status', 'aria-live': 'polite' });
  const place = el('button', { type: 'button', class: 'btn btn-primary btn-large', id: 'place-order' }, 'Place order');
  place.addEventListener('click', () => placeOrder(place, checkoutStatus));
  const unavailable = cart.items.some((item) => !item.available);
  return section('Your cart',
    el('table', { class: 'cart-table' },
      el('caption', { class: 'visually-hidden' }, 'Products in your cart'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Product'), el('th', { scope: 'col' }, 'Price'),
        el('th', { scope: 'col' }, 'Quantity'), el('th', { scope: 'col', class: 'num' }, 'Total'),
        el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
      el('tbody', {}, rows),
      el('tfoot', {}, el('tr', {},
        el('th', { scope: 'row', colspan: 3 }, 'Total'),
        el('td', { class: 'num', id: 'cart-total' }, formatPrice(cart.total_price)), el('td')))),
    unavailable ? el('p', { class: 'alert alert-warn' },
      'Some lines are no longer available as they are. Change or remove them before ordering.') : null,
    el('div', { class: 'checkout' }, place, checkoutStatus));
}

function cartRow(item) {
  const pid = item.product_id;
  const label = item.name ?? 'A product that no longer exists';
  const quantity = el('input', { id: `qty-${pid}`, name: 'quantity', type: 'number', min: 0, max: 1000,
    value: item.quantity, inputmode: 'numeric', class: 'qty',
    'aria-describedby': `line-error-${pid}` });
  const update = el('button', { type: 'submit', class: 'btn btn-small' }, 'Update');
  const error = el('p', { class: 'field-error', id: `line-error-${pid}`, hidden: true });
  const form = el('form', { class: 'qty-form', novalidate: true },
    el('label', { for: `qty-${pid}`, class: 'visually-hidden' }, `Quantity of ${label}`), quantity, update);
  const showLineError = (problem) => {
    error.textContent = problem.errors?.[pid] || problem.errors?.quantity || problem.detail || problem.title;
    error.hidden = false;
    quantity.setAttribute('aria-invalid', 'true');
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await whileBusy(update, () => api.put('/cart/update', { product_id: pid, quantity: Number(quantity.value) }));
      navigate('/shop/cart', { replace: true, focusId: Number(quantity.value) > 0 ? `qty-${pid}` : 'place-order' });
    } catch (problem) {
      showLineError(problem);
      quantity.focus();
    }
  });
  const remove = el('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Remove ${label}` }, 'Remove');
  remove.addEventListener('click', async () => {
    try {
      await whileBusy(remove, () => api.del('/cart/remove', { product_id: pid }));
      navigate('/shop/cart', { replace: true, focusId: 'place-order' });
    } catch (problem) {
      showLineError(problem);
    }
  });
  return el('tr', { id: `line-${pid}`, class: item.available ? '' : 'line-unavailable' },
    el('td', { 'data-label': 'Product' },
      item.name ? el('a', { href: `/shop/product/${pid}` }, item.name) : label,
      item.available ? null : el('span', { class: 'badge badge-warn' }, 'No longer available'),
      error),
    el('td', { 'data-label': 'Price' }, formatPrice(item.price)),
    el('td', { 'data-label': 'Quantity' }, form),
    el('td', { class: 'num', 'data-label': 'Total' }, formatPrice(item.line_total)),
    el('td', {}, remove));
}

async function placeOrder(button, status) {
  if (placingOrder) return;  // a second click while the first is in flight does nothing
  placingOrder = true;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  status.replaceChildren(el('p', {}, 'Placing your order…'));
  for (const slot of document.querySelectorAll('.cart-table .field-error')) slot.hidden = true;
  pendingOrderKey = pendingOrderKey || newIdempotencyKey();
  try {
    const order = await api.post('/order', {}, { headers: { 'Idempotency-Key': pendingOrderKey } });
    pendingOrderKey = null;
    sessionStorage.setItem(FLASH_KEY, 'Thank you! Your order is placed.');
    cartCount = null;
    refreshCartCount();
    navigate(`/shop/orders/${order._id}`);
  } catch (problem) {
    if (problem.status !== 0) pendingOrderKey = null;
    // 409 names the lines that cannot be ordered (product id → reason): show each on its line.
    const unshown = {};
    for (const [pid, message] of Object.entries(problem.errors || {})) {
      const slot = document.getElementById(`line-error-${pid}`);
      if (!slot) {
        unshown[pid] = message;
        continue;
      }
      slot.textContent = message;
      slot.hidden = false;
      document.getElementById(`line-${pid}`)?.classList.add('line-unavailable');
    }
    status.replaceChildren(problemBox(problem, unshown));
  } finally {
    placingOrder = false;
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// ---- orders ----

async function ordersView() {
  if (!api.session()) return loginRequiredView();
  const page = Math.max(1, Number.parseInt(new URLSearchParams(location.search).get('page') || '1', 10) || 1);
  const result = await api.get(`/orders?page=${page}&limit=20`);
  if (result.total === 0) {
    return section('Your orders', el('p', { class: 'empty' }, 'No orders yet. ', el('a', { href: '/' }, 'Start shopping')));
  }
  const pages = Math.max(1, Math.ceil(result.total / result.limit));
  return section('Your orders',
    el('table', { class: 'orders-table' },
      el('caption', { class: 'visually-hidden' }, 'Your orders, newest first'),
      el('thead', {}, el('tr', {}, ['Order', 'Placed', 'Items', 'Status', 'Total'].map((h) =>
        el('th', { scope: 'col', class: h === 'Total' ? 'num' : null }, h)))),
      el('tbody', {}, result.items.map((order) => el('tr', { 'data-order-id': order._id },
        el('td', { 'data-label': 'Order' }, el('a', { href: `/shop/orders/${order._id}` }, `#${order._id.slice(-8)}`)),
        el('td', { 'data-label': 'Placed' }, formatDate(order.created_at)),
        el('td', { 'data-label': 'Items' }, String(order.products.reduce((n, l) => n + l.quantity, 0))),
        el('td', { 'data-label': 'Status' }, el('span', { class: `badge status-${order.status}` }, statusLabel(order.status))),
        el('td', { class: 'num', 'data-label': 'Total' }, formatPrice(order.total_price)))))),
    pages > 1 ? el('nav', { class: 'pagination', 'aria-label': 'Pages' },
      page > 1 ? el('a', { class: 'btn', href: `/shop/orders?page=${page - 1}` }, '← Newer') : el('span'),
      el('span', {}, `Page ${page} of ${pages}`),
      page < pages ? el('a', { class: 'btn', href: `/shop/orders?page=${page + 1}` }, 'Older →') : el('span')) : null);
}

async function orderView(id) {
  if (!api.session()) return loginRequiredView();
  const order = await api.get(`/order/${encodeURIComponent(id)}`);
  const status = el('div', { 'aria-live': 'polite' });
  let cancel = null;
  if (order.status === 'pending') {
    cancel = el('button', { type: 'button', class: 'btn btn-danger' }, 'Cancel order');
    cancel.addEventListener('click', async () => {
      if (!window.confirm('Cancel this order? Its items go back on sale.')) return;
      try {
        await whileBusy(cancel, () => api.put(`/order/${order._id}/status`, { status: 'cancelled' }));
        sessionStorage.setItem(FLASH_KEY, 'Your order is cancelled.');
        navigate(location.pathname, { replace: true });
      } catch (problem) {
        status.replaceChildren(problemBox(problem));
      }
    });
  }
  return section(`Order #${order._id.slice(-8)}`,
    el('p', { class: 'order-summary' }, 'Status: ',
      el('span', { class: `badge status-${order.status}`, id: 'order-status' }, statusLabel(order.status)),
      ` · placed ${formatDate(order.created_at)}`),
    el('table', { class: 'order-lines' },
      el('caption', { class: 'visually-hidden' }, 'Ordered products'),
      el('thead', {}, el('tr', {}, ['Product', 'Unit price', 'Quantity', 'Total'].map((h) =>
        el('th', { scope: 'col', class: h === 'Total' ? 'num' : null }, h)))),
      el('tbody', {}, order.products.map((line) => el('tr', {},
        el('td', { 'data-label': 'Product' }, el('a', { href: `/shop/product/${line.product_id}` }, line.name)),
        el('td', { 'data-label': 'Unit price' }, formatPrice(line.price)),
        el('td', { 'data-label': 'Quantity' }, String(line.quantity)),
        el('td', { class: 'num', 'data-label': 'Total' }, formatPrice(line.line_total))))),
      el('tfoot', {}, el('tr', {}, el('th', { scope: 'row', colspan: 3 }, 'Total'),
        el('td', { class: 'num', id: 'order-total' }, formatPrice(order.total_price))))),
    el('h2', {}, 'History'),
    el('ol', { class: 'history' }, order.status_history.map((change) =>
      el('li', {}, `${statusLabel(change.status)} — ${formatDate(change.at)}`))),
    cancel ? el('div', { class: 'actions' }, cancel, status) : null,
    el('p', {}, el('a', { href: '/shop/orders' }, '← All orders')));
}

refreshCartCount();
render();
