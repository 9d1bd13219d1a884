/// The dashboard's templates (Mustache: `{{…}}` escapes HTML), stylesheet and script, compiled
/// into the binary: no CDN, nothing inline, so a strict Content-Security-Policy holds.
enum DashboardTemplates {
    static let all: [String: String] = [
        "top": top, "bottom": bottom, "sync": sync, "rollout": rollout, "pages": pages, "outcome": outcome,
        "overview": overview, "deployments": deployments, "deployment": deployment, "hosts": hosts, "host": host,
        "commits": commits, "commit": commit, "login": login, "confirm": confirm, "message": message,
    ]

    static let top = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{common.title}} · Helios</title>
        <link rel="stylesheet" href="/ui/assets/app.css">
        <script src="/ui/assets/live.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
        <span class="brand">Helios</span>
        <nav aria-label="Sections"><ul>
        {{#common.nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/common.nav}}
        </ul></nav>
        {{#common.signedIn}}<form method="post" action="/ui/logout" class="signout"><input type="hidden" name="csrf" value="{{common.csrf}}"><button type="submit">Sign out</button></form>{{/common.signedIn}}
        </header>
        <main id="main">
        """

    static let bottom = """
        </main>
        <footer><p>Rendered at <time datetime="{{common.generatedAt}}">{{common.generatedAt}}</time>. <span id="live-state" aria-live="polite">Refresh the page for the current state.</span></p></footer>
        </body>
        </html>
        """

    static let sync = """
        <section aria-labelledby="sync-heading" class="card">
        <h2 id="sync-heading">Sync with git</h2>
        {{#sync}}
        <p><span class="badge {{tone}}" data-test="sync-status">{{status}}</span> <span data-test="sync-reason">{{reason}}</span></p>
        <p data-test="sync-summary">{{summary}}</p>
        <dl class="facts">
        <dt>Applied</dt><dd><code data-test="sync-applied">{{#applied}}{{.}}{{/applied}}{{^applied}}nothing yet{{/applied}}</code>{{#appliedAgo}} · {{.}}{{/appliedAgo}}</dd>
        {{#refused}}<dt>Last attempted</dt><dd><code data-test="sync-attempted">{{attempted}}</code> (not applied)</dd>{{/refused}}
        </dl>
        {{#hasDiagnostics}}<h3>Diagnostics</h3>{{/hasDiagnostics}}
        <ul class="diagnostics">{{#diagnostics}}<li>{{#href}}<a href="{{href}}">{{text}}</a>{{/href}}{{^href}}{{text}}{{/href}}</li>{{/diagnostics}}</ul>
        {{/sync}}
        {{^sync}}<p>This cluster has not synced with git yet.</p>{{/sync}}
        {{#common.canDeploy}}<p><a class="button" href="/ui/actions/sync">Sync now…</a></p>{{/common.canDeploy}}
        </section>
        """

    static let rollout = """
        <article class="rollout" aria-labelledby="rollout-{{deployment}}">
        <h3 id="rollout-{{deployment}}"><a href="{{href}}">{{deployment}}</a> <span class="badge {{tone}}" data-test="rollout-state">{{state}}</span></h3>
        <p><span data-test="rollout-batch">{{batch}}</span> · batch started {{started}} · {{elapsed}}</p>
        <div class="bar" role="progressbar" aria-label="{{deployment}} rollout" aria-valuemin="0" aria-valuemax="100" aria-valuenow="{{percent}}"><span class="w{{percent}}"></span></div>
        <p>to <code>{{to}}</code>{{#from}} from <code>{{.}}</code>{{/from}}</p>
        {{#error}}<p class="error" data-test="rollout-error">{{.}}</p>{{/error}}
        {{#skipped}}<p>skipped (DOWN or not registered): {{.}}</p>{{/skipped}}
        <ol class="batches">{{#batches}}<li class="batch {{status}}"><span class="label">batch {{number}}: {{status}}</span>
        <ul>{{#hosts}}<li><span class="badge {{tone}}">{{state}}</span> {{host}}{{#since}} <small>{{.}}</small>{{/since}}</li>{{/hosts}}</ul></li>{{/batches}}</ol>
        </article>
        """

    static let pages = """
        {{#pages}}<nav aria-label="Pages" class="pages"><p>{{total}} in all · page {{page}} of {{pages}}
        {{#previous}}<a href="{{.}}" rel="prev">previous</a>{{/previous}} {{#next}}<a href="{{.}}" rel="next">next</a>{{/next}}</p></nav>{{/pages}}
        """

    /// How a revision's rollouts went: a badge per state with its count, bad ones naming deployments.
    static let outcome = """
        {{#outcome}}<span class="badge {{tone}}">{{count}} {{state}}</span>{{#deployments}} <small>{{.}}</small>{{/deployments}} {{/outcome}}{{^outcome}}none{{/outcome}}
        """

    static let overview = """
        {{> top}}
        <h1>Overview</h1>
        {{> sync}}
        <section aria-labelledby="counts-heading" class="card">
        <h2 id="counts-heading">Cluster</h2>
        {{#counts}}
        <ul class="counts">
        <li><strong data-test="hosts-up">{{hostsUp}}</strong> hosts UP</li>
        <li><strong data-test="hosts-down">{{hostsDown}}</strong> hosts DOWN</li>
        <li><strong data-test="deployments-in-sync">{{inSync}}</strong> of {{deployments}} deployments in sync</li>
        <li><strong data-test="deployments-rolling">{{rollingOut}}</strong> rolling out</li>
        <li><strong data-test="deployments-failed">{{failed}}</strong> failed</li>
        </ul>
        {{/counts}}
        </section>
        <section aria-labelledby="rolling-heading" class="card">
        <h2 id="rolling-heading">Rolling out now</h2>
        {{#rolling}}{{> rollout}}{{/rolling}}
        {{^rolling}}<p>Nothing is rolling out.</p>{{/rolling}}
        </section>
        {{#hasFailed}}<section aria-labelledby="failed-heading" class="card"><h2 id="failed-heading">Failed rollouts</h2>
        {{#failed}}{{> rollout}}{{/failed}}
        </section>{{/hasFailed}}
        {{> bottom}}
        """

    static let deployments = """
        {{> top}}
        <h1>Deployments</h1>
        <form method="get" action="/ui/deployments" class="filter" role="search">
        <label for="filter">Name contains</label> <input id="filter" name="filter" value="{{filter}}">
        <label for="label">Host label</label> <input id="label" name="label" value="{{label}}" placeholder="zone=a">
        <button type="submit">Filter</button>
        </form>
        {{#empty}}<p>No deployment matches.</p>{{/empty}}
        {{^empty}}
        <div class="matrix-wrap"><table class="matrix">
        <caption>Task state of each deployment (rows) on each host (columns)</caption>
        <thead><tr><th scope="col">Deployment</th>{{#hosts}}<th scope="col"><a href="/ui/hosts/{{.}}">{{.}}</a></th>{{/hosts}}</tr></thead>
        <tbody>
        {{#rows}}<tr><th scope="row"><a href="{{href}}">{{name}}</a>{{#rollout}} <small class="badge">{{.}}</small>{{/rollout}}</th>
        {{#cells}}<td class="cell {{tone}}"{{#reason}} title="{{.}}"{{/reason}}>{{#state}}<span class="state">{{state}}</span>{{#reason}}<span class="reason">{{.}}</span>{{/reason}}{{/state}}</td>{{/cells}}</tr>
        {{/rows}}
        </tbody></table></div>
        {{/empty}}
        {{> pages}}
        {{> bottom}}
        """

    static let deployment = """
        {{> top}}
        <h1>Deployment {{name}}</h1>
        <dl class="facts"><dt>Job</dt><dd><code data-test="deployment-job">{{job}}</code></dd><dt>Placement</dt><dd>{{placement}}</dd></dl>
        <section aria-labelledby="rollout-heading" class="card">
        <h2 id="rollout-heading">Rollout</h2>
        {{#rollout}}{{> rollout}}{{/rollout}}
        {{^rollout}}<p>No rollout yet.</p>{{/rollout}}
        </section>
        {{#hasCommits}}<section aria-labelledby="commits-heading" class="card">
        <h2 id="commits-heading">Commits that changed it</h2>
        <ul>{{#commits}}<li><a href="{{href}}"><code>{{short}}</code></a> {{appliedAt}}: {{summary}}</li>{{/commits}}</ul>
        </section>{{/hasCommits}}
        {{#hasRollouts}}<section aria-labelledby="history-heading" class="card">
        <h2 id="history-heading">Earlier rollouts</h2>
        <table class="list"><caption>Rollouts before this one, newest first</caption>
        <thead><tr><th scope="col">Revision</th><th scope="col">Job</th><th scope="col">Outcome</th><th scope="col">Took</th><th scope="col">Ended</th></tr></thead>
        <tbody>{{#rollouts}}<tr><th scope="row"><code>{{revision}}</code></th><td><code>{{job}}</code>{{#from}}<br><small>from <code>{{.}}</code></small>{{/from}}</td>
        <td><span class="badge {{tone}}" data-test="past-rollout-state">{{state}}</span>{{#error}}<br><small>{{.}}</small>{{/error}}</td><td>{{duration}}</td><td>{{ended}}</td></tr>{{/rollouts}}</tbody>
        </table></section>{{/hasRollouts}}
        <section aria-labelledby="tasks-heading" class="card">
        <h2 id="tasks-heading">Tasks</h2>
        {{#tasks}}
        <article class="task" aria-labelledby="task-{{host}}">
        <h3 id="task-{{host}}"><a href="{{href}}">{{host}}</a> <span class="badge {{tone}}" data-test="task-state">{{state}}</span></h3>
        {{#reason}}<p class="error">{{.}}</p>{{/reason}}
        <ol class="history" reversed>{{#events}}<li>{{#at}}<time datetime="{{at}}">{{ago}}</time> {{/at}}<span class="badge {{tone}}">{{state}}</span>{{#detail}} {{.}}{{/detail}}</li>{{/events}}</ol>
        </article>
        {{/tasks}}
        </section>
        {{> bottom}}
        """

    static let hosts = """
        {{> top}}
        <h1>Hosts</h1>
        <table class="list"><caption>Hosts and their agents</caption>
        <thead><tr><th scope="col">Host</th><th scope="col">Agent</th><th scope="col">Version</th><th scope="col">Labels</th><th scope="col">Tasks</th><th scope="col">Failing</th></tr></thead>
        <tbody>{{#hosts}}<tr><th scope="row"><a href="{{href}}">{{name}}</a></th><td>{{#up}}<span class="badge good">UP</span>{{/up}}{{^up}}<span class="badge warn">DOWN</span>{{/up}}</td><td>{{agent}}</td><td>{{labels}}</td><td>{{tasks}}</td><td>{{failing}}</td></tr>{{/hosts}}</tbody>
        </table>
        {{> pages}}
        {{> bottom}}
        """

    static let host = """
        {{> top}}
        {{#host}}<h1>Host {{name}} {{#up}}<span class="badge good" data-test="host-state">UP</span>{{/up}}{{^up}}<span class="badge warn" data-test="host-state">DOWN</span>{{/up}}</h1>
        <dl class="facts"><dt>Labels</dt><dd>{{labels}}{{^labels}}none{{/labels}}</dd><dt>Agent</dt><dd data-test="host-agent">{{agent}}{{^agent}}never registered{{/agent}}</dd></dl>{{/host}}
        <table class="list"><caption>Tasks on this host</caption>
        <thead><tr><th scope="col">Deployment</th><th scope="col">Job</th><th scope="col">Goal</th><th scope="col">State</th><th scope="col">Reason</th></tr></thead>
        <tbody>{{#tasks}}<tr><th scope="row"><a href="{{href}}">{{deployment}}</a></th><td><code>{{job}}</code></td><td>{{goal}}</td><td><span class="badge {{tone}}">{{state}}</span></td><td>{{reason}}</td></tr>{{/tasks}}</tbody>
        </table>
        {{> bottom}}
        """

    static let commits = """
        {{> top}}
        <h1>Commits</h1>
        {{#sync}}{{#refused}}<section aria-labelledby="refused-heading" class="card"><h2 id="refused-heading">Refused commit <code>{{attempted}}</code></h2>
        <p>{{summary}}</p><ul class="diagnostics">{{#diagnostics}}<li>{{#href}}<a href="{{href}}">{{text}}</a>{{/href}}{{^href}}{{text}}{{/href}}</li>{{/diagnostics}}</ul></section>{{/refused}}{{/sync}}
        <table class="list"><caption>Applied revisions, newest first</caption>
        <thead><tr><th scope="col">Revision</th><th scope="col">Applied</th><th scope="col">Plan</th><th scope="col">Rollouts</th></tr></thead>
        <tbody>{{#revisions}}<tr><th scope="row"><a href="{{href}}"><code title="{{revision}}">{{short}}</code></a>{{#current}} <span class="badge good">current</span>{{/current}}</th><td>{{appliedAt}}</td><td>{{summary}}</td><td data-test="commit-outcome">{{> outcome}}</td></tr>{{/revisions}}</tbody>
        </table>
        {{> bottom}}
        """

    static let commit = """
        {{> top}}
        <h1>Revision <code>{{revision}}</code></h1>
        <dl class="facts"><dt>Applied</dt><dd>{{appliedAt}}</dd><dt>Plan</dt><dd>{{summary}}</dd><dt>Rollouts</dt><dd data-test="commit-outcome">{{> outcome}}</dd></dl>
        {{#planHTML}}{{{planHTML}}}{{/planHTML}}
        {{#planOmitted}}<p>The plan was too large to keep with the revision; <code>helios plan --base</code> of the commit before shows it.</p>{{/planOmitted}}
        {{> bottom}}
        """

    static let login = """
        {{> top}}
        <h1>Sign in</h1>
        {{#error}}<p class="error" role="alert">{{.}}</p>{{/error}}
        <form method="post" action="/ui/login" class="card">
        <label for="token">API token (read, or deploy to take actions)</label>
        <input id="token" name="token" type="password" autocomplete="off" required>
        <button type="submit">Sign in</button>
        </form>
        {{> bottom}}
        """

    static let confirm = """
        {{> top}}
        <h1>Sync now?</h1>
        <p>The leader fetches the repository and applies its branch head now, instead of at its next poll.</p>
        <form method="post" action="/ui/actions/sync" class="card">
        <input type="hidden" name="csrf" value="{{common.csrf}}">
        <button type="submit">Yes, sync now</button> <a href="/ui">Cancel</a>
        </form>
        {{> bottom}}
        """

    static let message = """
        {{> top}}
        <h1>{{heading}}</h1>
        <p role="status">{{text}}</p>
        <p><a href="/ui">Back to the overview</a></p>
        {{> bottom}}
        """

    static let stylesheet = """
        :root { --good: #1a7f37; --busy: #0b5cad; --warn: #9a6700; --bad: #c11f2f; --idle: #57606a; --ink: #1f2328; --paper: #ffffff; --line: #d0d7de; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #f6f8fa; }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: var(--paper); padding: 4px; }
        header { display: flex; align-items: center; gap: 24px; padding: 8px 24px; background: #24292f; color: #fff; }
        header a { color: #fff; } .brand { font-weight: 700; }
        nav ul { list-style: none; display: flex; gap: 16px; margin: 0; padding: 0; }
        nav a[aria-current] { text-decoration: underline; font-weight: 700; }
        main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
        footer { text-align: center; color: var(--idle); font-size: 13px; }
        .card { background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
        .badge { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--idle); }
        .badge.good { background: var(--good); } .badge.busy { background: var(--busy); } .badge.warn { background: var(--warn); } .badge.bad { background: var(--bad); }
        .error { color: var(--bad); }
        .counts { display: flex; gap: 24px; list-style: none; padding: 0; flex-wrap: wrap; }
        .counts strong { font-size: 22px; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
        .facts dt { font-weight: 600; }
        .bar { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; }
        .bar span { display: block; height: 100%; background: var(--busy); }
        .batches { padding-left: 20px; } .batch.current > .label { font-weight: 700; }
        .batch ul { list-style: none; padding-left: 8px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
        .matrix-wrap { overflow-x: auto; }
        table { border-collapse: collapse; background: var(--paper); }
        th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
        .cell { font-size: 12px; color: #fff; min-width: 80px; }
        .cell.none { background: var(--paper); } .cell.good { background: var(--good); } .cell.busy { background: var(--busy); }
        .cell.warn { background: var(--warn); } .cell.bad { background: var(--bad); } .cell.idle { background: var(--idle); }
        .cell .reason { display: block; font-size: 11px; }
        .filter { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 12px; }
        .button, button { display: inline-block; padding: 4px 12px; border: 1px solid #1f6feb; border-radius: 6px; background: #0b5cad; color: #fff; text-decoration: none; font: inherit; cursor: pointer; }
        .signout { margin-left: auto; }
        code { font-size: 13px; }
        .plan-changes { list-style: none; padding-left: 0; } .plan-changes > li { margin: 4px 0; }
        .plan-add .marker { color: var(--good); } .plan-change .marker { color: var(--warn); } .plan-remove .marker { color: var(--bad); }
        .marker { font-weight: 700; font-family: monospace; }
        """ + (0...100).map { ".bar .w\($0) { width: \($0)%; }" }.joined(separator: " ")

    /// With JavaScript on, the page follows `/v1/events`: each event fetches the page again and
    /// swaps its `<main>` in place (no reload, scroll and focus kept).
    static let script = """
        "use strict";
        (function () {
          if (!window.EventSource || !window.fetch) return;
          // One fetch at a time; an event during it asks for one more once it is done (the page
          // it brings may predate that event), so the page always ends on the newest state.
          var pending = false, again = false, status = document.getElementById("live-state");
          function done() {
            pending = false;
            if (again) { again = false; refresh(); }
          }
          function refresh() {
            if (pending) { again = true; return; }
            pending = true;
            fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
              .then(function (reply) { return reply.ok ? reply.text() : null; })
              .then(function (html) {
                if (html) {
                  var next = new DOMParser().parseFromString(html, "text/html").getElementById("main");
                  var main = document.getElementById("main");
                  if (next && main && next.innerHTML !== main.innerHTML) main.innerHTML = next.innerHTML;
                }
                done();
              })
              .catch(done);
          }
          var events = new EventSource("/v1/events");
          events.addEventListener("sync", refresh);
          events.addEventListener("rollout", refresh);
          events.onopen = function () { if (status) status.textContent = "Live: the page follows the cluster."; };
          events.onerror = function () { if (status) status.textContent = "Live updates paused; reconnecting."; };
        })();
        """
}
