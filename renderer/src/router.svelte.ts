import { formatRoute, parseRoute, type Route } from './lib/routes.ts';

/** The current screen, kept in the URL fragment so that Back and reload work. */
export class Router {
  route: Route = $state.raw(parseRoute(location.hash));

  start(): () => void {
    const onChange = () => {
      this.route = parseRoute(location.hash);
    };
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }

  go(route: Route): void {
    const hash = formatRoute(route, location.hash);
    if (hash !== location.hash) location.hash = hash;
    this.route = route;
  }
}
