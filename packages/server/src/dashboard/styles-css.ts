/** The dashboard style sheet. */
export const STYLES_CSS = String.raw`:root {
  --bg: #f5f6f8;
  --card: #ffffff;
  --text: #1d2330;
  --muted: #6b7280;
  --border: #e2e5ea;
  --accent: #2f5bd3;
  --ok: #1f8a4c;
  --warn: #b7791f;
  --bad: #c0392b;
  --idle: #64748b;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 14px;
  color: var(--text);
  background: var(--bg);
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; }
.bar { display: flex; align-items: center; gap: 12px; padding: 12px 24px; background: #111827; color: #f9fafb; }
.bar h1 { font-size: 18px; margin: 0; font-weight: 600; }
.bar .muted { color: #cbd5e1; }
.spacer { flex: 1; }
main { padding: 16px 24px 48px; display: grid; gap: 16px; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: 16px; overflow-x: auto; }
.card.narrow { max-width: 420px; margin: 48px auto; }
h2 { font-size: 15px; margin: 0 0 12px; font-weight: 600; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--border); vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; max-width: 320px; }
th { color: var(--muted); font-weight: 500; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
tr.selected td { background: #eef2ff; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f3f4f6; padding: 8px; border-radius: 6px; white-space: pre-wrap; word-break: break-word; max-height: 320px; overflow: auto; margin: 4px 0 12px; }
button { font: inherit; border: 1px solid var(--border); background: #fff; color: var(--text); border-radius: 6px; padding: 3px 10px; cursor: pointer; }
button:hover { border-color: var(--accent); color: var(--accent); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--bad); }
button.link { border: none; background: none; color: var(--accent); padding: 0 4px; font-size: 12px; }
.bar button { background: #1f2937; color: #f9fafb; border-color: #374151; }
.actions { display: flex; gap: 6px; align-items: center; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: var(--idle); color: #fff; }
.badge[data-status="healthy"], .badge[data-status="active"], .badge[data-status="succeeded"], .badge[data-status="delivered"] { background: var(--ok); }
.badge[data-status="degraded"], .badge[data-status="paused"], .badge[data-status="awaiting_approval"], .badge[data-status="scheduled"], .badge[data-status="running"], .badge[data-status="pending"], .badge[data-status="skipped"] { background: var(--warn); }
.badge[data-status="stopped"], .badge[data-status="failed"], .badge[data-status="dead_letter"], .badge[data-status="timed_out"], .badge[data-status="denied"], .badge[data-status="interrupted"] { background: var(--bad); }
.count { color: var(--muted); font-weight: 400; }
.muted { color: var(--muted); }
.error { color: var(--bad); }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px 16px; margin: 0; }
.stats div { border-left: 3px solid var(--border); padding-left: 8px; }
.stats dt { color: var(--muted); font-size: 12px; }
.stats dd { margin: 0; font-size: 18px; font-weight: 600; }
a { color: var(--accent); }
nav { display: flex; gap: 4px; margin-left: 12px; }
nav a { color: #cbd5e1; text-decoration: none; padding: 4px 10px; border-radius: 6px; }
nav a:hover { color: #fff; }
nav a[aria-current="page"] { background: #374151; color: #fff; }
.view { display: grid; gap: 16px; }
form { display: flex; gap: 8px; align-items: center; }
input, select { font: inherit; padding: 4px 8px; border: 1px solid var(--border); border-radius: 6px; background: #fff; color: var(--text); }
#login-form input { flex: 1; }
.filters { flex-wrap: wrap; align-items: flex-end; margin-bottom: 12px; }
.filters label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }
.filters input[type="search"] { min-width: 240px; }
.toolbar, .confirm { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
.confirm { background: #fdecea; border: 1px solid #f5c2bd; border-radius: 6px; padding: 8px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 8px 16px; margin: 0 0 8px; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 0; }
#run-detail h2 code { font-size: 14px; }
.part h3 { font-size: 12px; margin: 16px 0 4px; color: var(--muted); text-transform: uppercase; font-weight: 600; }
.part p { margin: 4px 0; }
#toast { position: fixed; right: 24px; bottom: 24px; background: #111827; color: #fff; padding: 10px 14px; border-radius: 8px; max-width: 420px; box-shadow: 0 4px 16px rgba(0,0,0,.2); }
#toast.error { background: var(--bad); }
`;
