/** The dashboard's stylesheet (served as /dashboard/assets/app.css; no inline styles, so the CSP stays strict). */
export const DASHBOARD_CSS = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #5b6470; --line: #d8dde3; --accent: #2457d6;
  --ok: #1a7f37; --bad: #c62828; --warn: #9a6700; --run: #2457d6; --chip: #eef1f5; --code: #f5f7fa; }
@media (prefers-color-scheme: dark) { :root { --bg: #111418; --fg: #e6e9ee; --muted: #9aa4b0; --line: #2b3138;
  --accent: #7aa2ff; --ok: #4ac26b; --bad: #ff7b72; --warn: #d29922; --run: #7aa2ff; --chip: #1d232a; --code: #171b20; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
header.top { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); }
header.top h1 { font-size: 1rem; margin: 0; }
header.top nav { display: flex; gap: .25rem; }
header.top nav a { padding: .3rem .7rem; border-radius: 6px; text-decoration: none; color: var(--fg); }
header.top nav a[aria-current="page"] { background: var(--chip); font-weight: 600; }
.live { margin-left: auto; color: var(--muted); font-size: .85rem; }
.live[data-state="open"]::before { content: "● "; color: var(--ok); }
.live[data-state="closed"]::before { content: "● "; color: var(--bad); }
main { padding: 1rem 1.2rem; }
.split { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; }
.split.with-detail { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
.split > * { min-width: 0; overflow-x: auto; }
.filters { display: flex; gap: .75rem; flex-wrap: wrap; align-items: end; margin-bottom: .75rem; }
.filters label { display: grid; gap: .15rem; font-size: .8rem; color: var(--muted); }
select, input, textarea, button { font: inherit; color: inherit; }
select, input, textarea { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .3rem .5rem; }
textarea { width: 100%; font-family: ui-monospace, monospace; font-size: 13px; }
button { background: var(--chip); border: 1px solid var(--line); border-radius: 6px; padding: .3rem .8rem; cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { color: var(--bad); }
button:disabled { opacity: .55; cursor: default; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .75rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); font-weight: 600; }
tbody tr.row { cursor: pointer; }
tbody tr.row:hover, tbody tr.row[aria-selected="true"] { background: var(--chip); }
.mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.status { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; font-weight: 600; background: var(--chip); }
.status[data-status="Completed"] { color: var(--ok); }
.status[data-status="Failed"] { color: var(--bad); }
.status[data-status="Cancelled"] { color: var(--warn); }
.status[data-status="Running"], .status[data-status="Queued"], .status[data-status="Retrying"],
.status[data-status="Sleeping"], .status[data-status="Waiting"], .status[data-status="Planned"] { color: var(--run); }
section.panel { border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
section.panel h2 { margin: 0 0 1rem; font-size: 1rem; display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
section.panel h3 { font-size: .9rem; margin: 1rem 0 .4rem; }
section.panel h2 .actions { margin-left: auto; display: flex; gap: .4rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 .8rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.waterfall { display: grid; gap: .35rem; }
.step { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .6rem; }
.step .head { display: flex; gap: .6rem; align-items: baseline; flex-wrap: wrap; }
.bar-track { position: relative; height: 6px; background: var(--chip); border-radius: 3px; margin: .35rem 0; }
.bar { position: absolute; top: 0; height: 6px; border-radius: 3px; background: var(--run); min-width: 2px; }
.bar[data-status="Completed"] { background: var(--ok); }
.bar[data-status="Failed"] { background: var(--bad); }
.bar.wait { background: transparent; border: 1px dashed var(--muted); height: 6px; box-sizing: border-box; }
pre { background: var(--code); border-radius: 6px; padding: .5rem; margin: .3rem 0; overflow: auto; max-height: 24rem; white-space: pre-wrap; word-break: break-word; font-size: 12.5px; }
.waterfall { list-style: none; padding: 0; margin: 0; }
.error { color: var(--bad); }
.notice { padding: .5rem .8rem; border-radius: 6px; background: var(--chip); margin-bottom: .75rem; }
.notice.bad { color: var(--bad); }
.grid2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
.chips { display: flex; gap: .3rem; flex-wrap: wrap; }
.chip { background: var(--chip); border-radius: 4px; padding: 0 .4rem; font-family: ui-monospace, monospace; font-size: 12.5px; }
details.progress { margin-top: .3rem; font-size: .85rem; }
details.progress ol { margin: .3rem 0; padding-left: 1.2rem; }
details.progress code { font-size: 12px; color: var(--muted); }
form.signin { max-width: 26rem; margin: 4rem auto; display: grid; gap: .6rem; }
`;
