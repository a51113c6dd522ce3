/**
 * Screens are addressed in the URL fragment as `view=...`, next to whatever else is there (the
 * headless mode's `token=`), so reloading or going back keeps both.
 */
export type Route =
  | { name: 'home' }
  | { name: 'cosigners' }
  | { name: 'new'; groupId?: string }
  | { name: 'history' }
  | { name: 'settings' }
  | { name: 'session'; id: string }
  | { name: 'wallet'; groupId: string };

const SIMPLE = new Set(['home', 'cosigners', 'new', 'history', 'settings']);
const ID = /^[0-9a-f]{64}$/;

export function parseRoute(hash: string): Route {
  const view = new URLSearchParams(hash.replace(/^#/, '')).get('view') ?? '';
  const [name = '', id = ''] = view.split('/');
  if (name === 'session' && ID.test(id)) return { name, id };
  if (name === 'new' && ID.test(id)) return { name, groupId: id };
  if (name === 'wallet' && ID.test(id)) return { name, groupId: id };
  if (SIMPLE.has(name)) return { name } as Route;
  return { name: 'home' };
}

export function formatRoute(route: Route, currentHash: string): string {
  const params = new URLSearchParams(currentHash.replace(/^#/, ''));
  params.delete('view');
  const rest = params.toString();
  const path =
    route.name === 'session'
      ? `session/${route.id}`
      : route.name === 'wallet' || (route.name === 'new' && route.groupId)
        ? `${route.name}/${route.groupId}`
        : route.name;
  const view = `view=${path}`;
  return '#' + (rest ? `${rest}&${view}` : view);
}
