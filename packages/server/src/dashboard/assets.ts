import { APP_JS } from './app-js.js';
import { PAGE_HTML } from './page-html.js';
import { STYLES_CSS } from './styles-css.js';

/** A file the dashboard serves. */
export interface DashboardAsset {
  /** Response content type. */
  contentType: string;
  /** File contents. */
  body: string;
}

/** The page served at `/`. */
export const DASHBOARD_PAGE: DashboardAsset = { contentType: 'text/html; charset=utf-8', body: PAGE_HTML };

/** Files under `/dashboard/`, by name. */
export const DASHBOARD_ASSETS: Readonly<Record<string, DashboardAsset>> = {
  'app.js': { contentType: 'text/javascript; charset=utf-8', body: APP_JS },
  'styles.css': { contentType: 'text/css; charset=utf-8', body: STYLES_CSS },
};
