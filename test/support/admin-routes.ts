/** Every route the admin router serves, as [method, template], read from the router itself. */
import { createAdminRouter } from '../../src/admin/admin.router.js';

export function adminRouteTemplates(): [string, string][] {
  // Services are only captured at registration; a stand-in for each is enough to list routes.
  const stub = new Proxy({}, { get: () => ({}) }) as Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- without it Proxy infers the literal's type and target[key] does not type-check
  const deps = new Proxy({ adminToken: 'x'.repeat(32), bodyLimitBytes: 1024 } as Record<string, unknown>, {
    get: (target, key: string) => target[key] ?? stub,
  });
  const router = createAdminRouter(deps as unknown as Parameters<typeof createAdminRouter>[0]);
  const routes: [string, string][] = [];
  for (const layer of router.stack) {
    for (const method of layer.methods) if (method !== 'HEAD') routes.push([method, layer.path as string]);
  }
  return routes;
}
