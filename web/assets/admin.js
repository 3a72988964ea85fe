// The admin console: products (with image upload), categories, every customer's orders and
// users. Only admins get past the guard; anyone else is sent back to the storefront. It uses the
// same public API as everyone else (roles are checked by the server on every request).
import * as api from './api.js';
import {
  el, replaceChildren, formatPrice, formatDate, statusLabel, productImage, problemBox,
  noticeBox, field, clearFormErrors, showFormProblem, whileBusy, focusHeading, routeLinks,
} from './ui.js';

const main = document.getElementById('main');
const nav = document.getElementById('site-nav');
const FLASH_KEY = 'flaskcart.flash';

// The order state machine as the server enforces it: only these moves are offered.
const NEXT_STATUSES = {
  pending: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

const routes = [
  [/^\/admin\/?$/, productsView],
  [/^\/admin\/products$/, productsView],
  [/^\/admin\/products\/new$/, () => productFormView(null)],
  [/^\/admin\/products\/([^/]+)$/, productFormView],
  [/^\/admin\/categories$/, categoriesView],
  [/^\/admin\/orders$/, ordersView],
  [/^\/admin\/users$/, usersView],
];

let renderCount = 0;
let focusAfterRender = null;
let me = null;

function navigate(url, { replace = false, focusId = null } = {}) {
  history[replace ? 'replaceState' : 'pushState']({}, '', url);
  focusAfterRender = focusId;
  render();
}

routeLinks((path) => path.startsWith('/admin'), navigate);
window.addEventListener('popstate', () => render());

function leave(message) {
  sessionStorage.setItem(FLASH_KEY, message);
  location.replace('/');
}

// Admins only: the role is read fresh from the server, not from the saved session.
async function guard() {
  if (!api.session()) {
    location.replace(`/shop/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    return false;
  }
  try {
    me = await api.get('/profile');
  } catch (problem) {
    if (problem.status === 401) {
      location.replace(`/shop/login?next=${encodeURIComponent(location.pathname)}`);
      return false;
    }
    throw problem;
  }
  api.updateSessionUser(me);
  if (me.role !== 'admin') {
    leave('The admin console is for shop administrators.');
    return false;
  }
  return true;
}

async function render() {
  const ticket = ++renderCount;
  renderNav();
  main.setAttribute('aria-busy', 'true');
  let content;
  const route = routes.find(([pattern]) => pattern.test(location.pathname));
  try {
    content = route
      ? await route[1](...location.pathname.match(route[0]).slice(1).map(decodeURIComponent))
      : section('Page not found', el('p', {}, el('a', { href: '/admin' }, 'Back to products')));
  } catch (problem) {
    if (problem.status === 401 || problem.status === 403) {
      leave('Your session ended or you are no longer an administrator.');
      return;
    }
    content = section('Something went wrong', problemBox(problem));
  }
  if (ticket !== renderCount) return;
  const flash = sessionStorage.getItem(FLASH_KEY);
  if (flash) {
    sessionStorage.removeItem(FLASH_KEY);
    content.prepend(noticeBox(flash));
  }
  main.replaceChildren(content);
  main.removeAttribute('aria-busy');
  const heading = main.querySelector('h1');
  document.title = `${heading ? heading.textContent : 'Admin'} · FlaskCart admin`;
  const target = focusAfterRender && document.getElementById(focusAfterRender);
  focusAfterRender = null;
  if (target) target.focus();
  else if (ticket > 1) focusHeading(main);
}

function renderNav() {
  const link = (href, text) => {
    const here = location.pathname === href || (href === '/admin/products' && location.pathname.startsWith('/admin/products')) ||
      (href === '/admin/products' && /^\/admin\/?$/.test(location.pathname));
    return el('li', {}, el('a', { href, 'aria-current': here ? 'page' : null }, text));
  };
  replaceChildren(nav, el('ul', {},
    link('/admin/products', 'Products'), link('/admin/categories', 'Categories'),
    link('/admin/orders', 'Orders'), link('/admin/users', 'Users'),
    el('li', {}, el('a', { href: '/' }, 'Storefront')),
    el('li', {}, el('a', { href: '/docs' }, 'API')),
    el('li', {}, el('button', { type: 'button', class: 'link-button', on: {
      click: async () => { await api.logOut(); location.assign('/'); } } }, 'Log out'))));
}

const section = (title, ...children) => el('section', { class: 'view' }, el('h1', {}, title), ...children);

async function fetchAllPages(path) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const result = await api.get(`${path}${path.includes('?') ? '&' : '?'}page=${page}&limit=100`);
    items.push(...result.items);
    if (items.length >= result.total || result.items.length === 0) return items;
  }
}

// ---- products ----

async function productsView() {
  const params = new URLSearchParams(location.search);
  const page = Math.max(1, Number.parseInt(params.get('page') || '1', 10) || 1);
  const q = params.get('q') || '';
  const query = new URLSearchParams({ page: String(page), limit: '20' });
  if (q) query.set('q', q);
  const [result, categories] = await Promise.all([
    api.get(`/products?${query}`), api.get('/categories')]);
  const names = new Map(categories.items.map((c) => [c._id, c.name]));
  const search = el('input', { id: 'a-q', name: 'q', type: 'search', value: q });
  const searchForm = el('form', { class: 'toolbar', role: 'search', 'aria-label': 'Find products' },
    field('Find products', search), el('button', { type: 'submit', class: 'btn' }, 'Search'),
    el('a', { href: '/admin/products/new', class: 'btn btn-primary' }, 'New product'));
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = search.value.trim();
    navigate(value ? `/admin/products?q=${encodeURIComponent(value)}` : '/admin/products', { focusId: 'a-q' });
  });
  const status = el('div', { 'aria-live': 'polite' });
  const rows = result.items.map((product) => {
    const remove = el('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${product.name}` }, 'Delete');
    remove.addEventListener('click', async () => {
      if (!window.confirm(`Delete “${product.name}”? Carts that hold it will show it as no longer available.`)) return;
      try {
        await whileBusy(remove, () => api.del(`/products/${product._id}`));
        sessionStorage.setItem(FLASH_KEY, `Deleted “${product.name}”.`);
        navigate(location.pathname + location.search, { replace: true });
      } catch (problem) {
        status.replaceChildren(problemBox(problem));
      }
    });
    return el('tr', { 'data-product-id': product._id },
      el('td', { 'data-label': 'Product' }, el('div', { class: 'inline-form' }, productImage(product, 'thumb-small'),
        el('a', { href: `/admin/products/${product._id}` }, product.name))),
      el('td', { 'data-label': 'Price', class: 'num' }, formatPrice(product.price)),
      el('td', { 'data-label': 'Stock', class: 'num' }, String(product.stock)),
      el('td', { 'data-label': 'Category' }, names.get(product.category) || '—'),
      el('td', {}, el('div', { class: 'row-actions' },
        el('a', { href: `/admin/products/${product._id}`, class: 'btn btn-small', 'aria-label': `Edit ${product.name}` }, 'Edit'),
        remove)));
  });
  const pages = Math.max(1, Math.ceil(result.total / result.limit));
  const pageLink = (target, text) => {
    const next = new URLSearchParams(params);
    next.set('page', String(target));
    return el('a', { class: 'btn', href: `/admin/products?${next}` }, text);
  };
  return section('Products', searchForm, status,
    el('p', { class: 'result-count', role: 'status' }, `${result.total} products`),
    el('table', { class: 'admin-table' },
      el('caption', { class: 'visually-hidden' }, 'Products'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Product'), el('th', { scope: 'col', class: 'num' }, 'Price'),
        el('th', { scope: 'col', class: 'num' }, 'Stock'), el('th', { scope: 'col' }, 'Category'),
        el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
      el('tbody', {}, rows)),
    pages > 1 ? el('nav', { class: 'pagination', 'aria-label': 'Pages' },
      page > 1 ? pageLink(page - 1, '← Previous') : el('span'), el('span', {}, `Page ${page} of ${pages}`),
      page < pages ? pageLink(page + 1, 'Next →') : el('span')) : null);
}

async function productFormView(id) {
  const [product, categories] = await Promise.all([
    id ? api.get(`/products/${encodeURIComponent(id)}`) : Promise.resolve(null),
    api.get('/categories')]);
  const name = el('input', { id: 'pf-name', name: 'name', required: true, maxlength: 200, value: product?.name ?? '' });
  const description = el('textarea', { id: 'pf-description', name: 'description', rows: 4, maxlength: 5000 });
  description.value = product?.description ?? '';
  const price = el('input', { id: 'pf-price', name: 'price', type: 'number', step: '0.01', min: '0.01', inputmode: 'decimal',
    required: true, value: product ? String(product.price) : '' });
  const stock = el('input', { id: 'pf-stock', name: 'stock', type: 'number', step: 1, min: 0, inputmode: 'numeric',
    required: true, value: product ? String(product.stock) : '0' });
  const category = el('select', { id: 'pf-category', name: 'category' },
    el('option', { value: '' }, 'No category'),
    categories.items.map((c) => el('option', { value: c._id, selected: product?.category === c._id }, c.name)));
  const uploaded = product?.image_url?.startsWith('/');
  const imageUrl = el('input', { id: 'pf-image-url', name: 'image_url', type: 'url', maxlength: 2048,
    value: product?.image_url && !uploaded ? product.image_url : '', placeholder: 'https://…' });
  const image = el('input', { id: 'pf-image', name: 'image', type: 'file', accept: 'image/png,image/jpeg,image/webp' });
  const preview = el('div', { class: 'preview', 'aria-live': 'polite' },
    product ? productImage(product, 'image-preview') : null);
  let previewUrl = null;
  image.addEventListener('change', () => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    const file = image.files[0];
    if (!file) {
      preview.replaceChildren(product ? productImage(product, 'image-preview') : '');
      return;
    }
    previewUrl = URL.createObjectURL(file);
    preview.replaceChildren(el('img', { src: previewUrl, class: 'image-preview', alt: `Preview of ${file.name}` }),
      el('p', { class: 'hint' }, `${file.name} · ${Math.ceil(file.size / 1024)} KB — uploaded when you save.`));
  });
  const save = el('button', { type: 'submit', class: 'btn btn-primary' }, product ? 'Save changes' : 'Create product');
  const form = el('form', { class: 'stack', novalidate: true },
    el('div', { class: 'form-grid' },
      el('div', { class: 'span-2' }, field('Name', name)),
      el('div', { class: 'span-2' }, field('Description', description)),
      field('Price ($)', price), field('Stock', stock),
      field('Category', category),
      field('Image URL', imageUrl, uploaded ? 'Not used while an uploaded photo exists.' : 'Optional: an https address of a photo.'),
      el('div', { class: 'span-2' }, field('Photo', image, 'PNG, JPEG or WebP, at most 5 MB.'), preview)),
    save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    const body = {
      name: name.value,
      description: description.value,
      price: price.value.trim() === '' ? null : Number(price.value),
      stock: stock.value.trim() === '' ? null : Number(stock.value),
      category: category.value || null,
    };
    if (!uploaded || imageUrl.value.trim()) body.image_url = imageUrl.value.trim() || null;
    try {
      await whileBusy(save, async () => {
        const saved = product ? await api.put(`/products/${product._id}`, body) : await api.post('/products', body);
        const file = image.files[0];
        if (file) {
          try {
            await api.post(`/products/${saved._id}/image`, file);
          } catch (problem) {
            // The product is saved; the photo is what failed. Say so next to the file field.
            problem.errors = { image: problem.detail || problem.title };
            if (!product) {
              sessionStorage.setItem(FLASH_KEY, `Created “${saved.name}”, but its photo was refused: ${problem.detail}`);
              navigate(`/admin/products/${saved._id}`, { replace: true });
              return;
            }
            throw problem;
          }
        }
        sessionStorage.setItem(FLASH_KEY, product ? `Saved “${saved.name}”.` : `Created “${saved.name}”.`);
        navigate(`/admin/products/${saved._id}`, { replace: Boolean(product) });
      });
    } catch (problem) {
      showFormProblem(form, problem);
    }
  });
  return section(product ? `Edit ${product.name}` : 'New product',
    el('p', {}, el('a', { href: '/admin/products' }, '← All products'),
      product ? [' · ', el('a', { href: `/shop/product/${product._id}` }, 'View in the shop')] : null),
    form);
}

// ---- categories ----

async function categoriesView() {
  const { items } = await api.get('/categories');
  const status = el('div', { 'aria-live': 'polite' });

  const name = el('input', { id: 'c-name', name: 'name', required: true, maxlength: 100 });
  const description = el('input', { id: 'c-description', name: 'description', maxlength: 2000 });
  const add = el('button', { type: 'submit', class: 'btn btn-primary' }, 'Add category');
  const form = el('form', { class: 'toolbar', novalidate: true, 'aria-label': 'New category' },
    field('Name', name), field('Description', description), add);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    try {
      const created = await whileBusy(add, () => api.post('/categories', { name: name.value, description: description.value }));
      sessionStorage.setItem(FLASH_KEY, `Added “${created.name}”.`);
      navigate('/admin/categories', { replace: true, focusId: 'c-name' });
    } catch (problem) {
      showFormProblem(form, problem);
    }
  });

  const rows = items.map((category) => {
    const cid = category._id;
    const rowName = el('input', { id: `cn-${cid}`, name: 'name', value: category.name, maxlength: 100 });
    const rowDescription = el('input', { id: `cd-${cid}`, name: 'description', value: category.description, maxlength: 2000 });
    const save = el('button', { type: 'submit', class: 'btn btn-small' }, 'Save');
    const remove = el('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${category.name}` }, 'Delete');
    const rowForm = el('form', { class: 'inline-form', novalidate: true, 'aria-label': `Edit ${category.name}` },
      field('Name', rowName), field('Description', rowDescription), save);
    rowForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFormErrors(rowForm);
      try {
        await whileBusy(save, () => api.put(`/categories/${cid}`, { name: rowName.value, description: rowDescription.value }));
        sessionStorage.setItem(FLASH_KEY, `Saved “${rowName.value.trim()}”.`);
        navigate('/admin/categories', { replace: true, focusId: `cn-${cid}` });
      } catch (problem) {
        showFormProblem(rowForm, problem);
      }
    });
    const rowStatus = el('div', { id: `c-status-${cid}` });
    remove.addEventListener('click', async () => {
      if (!window.confirm(`Delete the category “${category.name}”?`)) return;
      try {
        await whileBusy(remove, () => api.del(`/categories/${cid}`));
        sessionStorage.setItem(FLASH_KEY, `Deleted “${category.name}”.`);
        navigate('/admin/categories', { replace: true, focusId: 'c-name' });
      } catch (problem) {
        const box = problemBox(problem);
        if (problem.status === 409) {
          box.append(el('p', {}, 'A category that products still use cannot be deleted. Move those products to another category (or delete them) first: ',
            el('a', { href: `/?category=${cid}` }, 'see its products'), '.'));
        }
        rowStatus.replaceChildren(box);
        box.setAttribute('tabindex', '-1');
        box.focus();
      }
    });
    return el('tr', { 'data-category-id': cid },
      el('td', { 'data-label': 'Category' }, rowForm, rowStatus),
      el('td', { 'data-label': 'Products', class: 'num' }, String(category.product_count)),
      el('td', {}, remove));
  });
  return section('Categories', form, status,
    el('table', { class: 'admin-table' },
      el('caption', { class: 'visually-hidden' }, 'Categories'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Category'), el('th', { scope: 'col', class: 'num' }, 'Products'),
        el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
      el('tbody', {}, rows)));
}

// ---- orders ----

// The API lists orders per customer, so every customer's orders are gathered here (a few
// requests at a time) and merged newest first.
async function allOrders(users) {
  const orders = [];
  const queue = [...users];
  const worker = async () => {
    while (queue.length) {
      const user = queue.shift();
      const list = await fetchAllPages(`/orders/${user._id}`);
      for (const order of list) orders.push({ order, user });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  orders.sort((a, b) => b.order.created_at.localeCompare(a.order.created_at));
  return orders;
}

async function ordersView() {
  const params = new URLSearchParams(location.search);
  const wanted = params.get('status') || '';
  const users = await fetchAllPages('/users');
  const entries = (await allOrders(users)).filter(({ order }) => !wanted || order.status === wanted);
  const filter = el('select', { id: 'o-status', name: 'status' }, el('option', { value: '' }, 'All statuses'),
    Object.keys(NEXT_STATUSES).map((s) => el('option', { value: s, selected: s === wanted }, statusLabel(s))));
  filter.addEventListener('change', () => {
    navigate(filter.value ? `/admin/orders?status=${filter.value}` : '/admin/orders', { focusId: 'o-status' });
  });
  const rows = entries.map(({ order, user }) => {
    const oid = order._id;
    const next = NEXT_STATUSES[order.status] || [];
    const rowStatus = el('div');
    let change = null;
    if (next.length) {
      const select = el('select', { id: `os-${oid}`, name: 'status' },
        next.map((s) => el('option', { value: s }, `Mark ${s}`)));
      const apply = el('button', { type: 'submit', class: 'btn btn-small' }, 'Apply');
      change = el('form', { class: 'inline-form', 'aria-label': `Change the status of order ${oid.slice(-8)}` },
        el('label', { for: `os-${oid}`, class: 'visually-hidden' }, `New status for order ${oid.slice(-8)}`), select, apply);
      change.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          await whileBusy(apply, () => api.put(`/order/${oid}/status`, { status: select.value }));
          sessionStorage.setItem(FLASH_KEY, `Order #${oid.slice(-8)} is now ${select.value}.`);
          navigate(location.pathname + location.search, { replace: true, focusId: 'o-status' });
        } catch (problem) {
          rowStatus.replaceChildren(problemBox(problem));
        }
      });
    }
    return el('tr', { 'data-order-id': oid },
      el('td', { 'data-label': 'Order' },
        el('details', {}, el('summary', {}, `#${oid.slice(-8)}`),
          el('ul', {}, order.products.map((line) => el('li', {}, `${line.quantity} × ${line.name} — ${formatPrice(line.line_total)}`))))),
      el('td', { 'data-label': 'Customer' }, `${user.name} `, el('span', { class: 'explain' }, user.email)),
      el('td', { 'data-label': 'Placed' }, formatDate(order.created_at)),
      el('td', { 'data-label': 'Total', class: 'num' }, formatPrice(order.total_price)),
      el('td', { 'data-label': 'Status' }, el('span', { class: `badge status-${order.status}` }, statusLabel(order.status))),
      el('td', { 'data-label': 'Change' }, change || el('span', { class: 'explain' }, 'Final'), rowStatus));
  });
  return section('Orders',
    el('div', { class: 'toolbar' }, field('Show', filter)),
    el('p', { class: 'explain' }, 'Orders move pending → paid → shipped → delivered; pending or paid orders can be cancelled, which puts their stock back.'),
    el('p', { class: 'result-count', role: 'status' }, `${entries.length} orders`),
    entries.length ? el('table', { class: 'admin-table' },
      el('caption', { class: 'visually-hidden' }, 'Orders, newest first'),
      el('thead', {}, el('tr', {}, ['Order', 'Customer', 'Placed', 'Total', 'Status', 'Change'].map((h) =>
        el('th', { scope: 'col', class: h === 'Total' ? 'num' : null }, h)))),
      el('tbody', {}, rows)) : el('p', { class: 'empty' }, 'No orders here.'));
}

// ---- users ----

async function usersView() {
  const users = await fetchAllPages('/users');
  const rows = users.map((user) => {
    const uid = user._id;
    const role = el('select', { id: `ur-${uid}`, name: 'role' },
      ['customer', 'admin'].map((r) => el('option', { value: r, selected: user.role === r }, statusLabel(r))));
    const save = el('button', { type: 'submit', class: 'btn btn-small' }, 'Save role');
    const rowStatus = el('div');
    const form = el('form', { class: 'inline-form', 'aria-label': `Role of ${user.email}` },
      el('label', { for: `ur-${uid}`, class: 'visually-hidden' }, `Role of ${user.email}`), role, save);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await whileBusy(save, () => api.put(`/users/${uid}/role`, { role: role.value }));
        if (uid === me._id && role.value !== 'admin') {
          leave('You are no longer an administrator.');
          return;
        }
        sessionStorage.setItem(FLASH_KEY, `${user.email} is now ${role.value === 'admin' ? 'an admin' : 'a customer'}.`);
        navigate('/admin/users', { replace: true, focusId: `ur-${uid}` });
      } catch (problem) {
        const box = problemBox(problem);
        if (problem.status === 409) {
          box.append(el('p', {}, 'The shop always keeps at least one administrator. Make another user an admin first, then change this one.'));
        }
        rowStatus.replaceChildren(box);
        role.value = user.role;
        box.setAttribute('tabindex', '-1');
        box.focus();
      }
    });
    return el('tr', { 'data-user-id': uid },
      el('td', { 'data-label': 'User' }, user.name, el('br'), el('span', { class: 'explain' }, user.email),
        uid === me._id ? el('span', { class: 'badge' }, 'You') : null),
      el('td', { 'data-label': 'Joined' }, formatDate(user.created_at)),
      el('td', { 'data-label': 'Role' }, form, rowStatus));
  });
  return section('Users',
    el('p', { class: 'result-count', role: 'status' }, `${users.length} users`),
    el('table', { class: 'admin-table' },
      el('caption', { class: 'visually-hidden' }, 'Users, oldest first'),
      el('thead', {}, el('tr', {}, ['User', 'Joined', 'Role'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows)));
}

if (await guard()) render();
