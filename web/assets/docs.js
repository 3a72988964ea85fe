// The interactive API reference: Swagger UI (served by FlaskCart from the pinned npm package)
// over /openapi.json. When you are logged in to the shop in this browser, "Try it out" sends
// your bearer token; otherwise use the Authorize button.
import { session } from './api.js';

const saved = session();
const ui = window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  // Deep links put a link inside each operation's toggle button (nested controls).
  deepLinking: false,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  onComplete: () => {
    if (saved) ui.preauthorizeApiKey('bearerAuth', saved.token);
  },
});

document.getElementById('docs-auth').textContent = saved
  ? `Requests are sent as ${saved.user.email} (your shop login).`
  : 'Not logged in: use Authorize with a token from POST /login, or log in to the shop first.';
