import { GRAPHIQL_DEFAULT_HEADERS, GRAPHIQL_EXAMPLES } from './graphiql-examples.ts';

/**
 * The GraphiQL page: the prebuilt bundles of React 18 and GraphiQL 3 (UMD, from npm), and a
 * data block with the example tabs that the start script reads. Nothing inline executes.
 */
export function graphiqlPage(assetPath: string): string {
  const config = {
    endpoint: '/graphql',
    tabs: GRAPHIQL_EXAMPLES.map((example) => ({ query: example.query, variables: null, headers: GRAPHIQL_DEFAULT_HEADERS })),
    headers: GRAPHIQL_DEFAULT_HEADERS,
  };
  // `<` escaped, so no text in the examples can close the data block.
  const data = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Strata GraphiQL</title>
<link rel="stylesheet" href="${assetPath}graphiql.min.css">
</head>
<body style="margin: 0">
<div id="graphiql" style="height: 100vh">Loading GraphiQL...</div>
<script type="application/json" id="strata-graphiql-config">${data}</script>
<script src="${assetPath}react.production.min.js"></script>
<script src="${assetPath}react-dom.production.min.js"></script>
<script src="${assetPath}graphiql.min.js"></script>
<script src="${assetPath}strata-graphiql.js"></script>
</body>
</html>
`;
}

/**
 * Starts GraphiQL from the page's data block: one tab per user group, the headers editor
 * open with a placeholder for the key, headers never persisted in the browser's storage
 * (keys stay out of localStorage). The placeholder is not sent as a credential (it would
 * count as a failed authentication). GraphiQL 3 fetches the schema with the headers it had
 * when it last rendered, so once the Authorization header holds a new bearer token the
 * page renders again with a new fetcher, and GraphiQL fetches the schema with that key.
 */
export const GRAPHIQL_START_SCRIPT = `(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('strata-graphiql-config').textContent);
  var placeholder = JSON.parse(config.headers).Authorization;
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  var lastAuthorization = null;
  var timer = null;

  function createFetcher() {
    var fetchGraphql = GraphiQL.createFetcher({ url: config.endpoint });
    return function (params, options) {
      var headers = options && options.headers;
      if (headers && headers.Authorization === placeholder) {
        headers = Object.assign({}, headers);
        delete headers.Authorization;
      }
      return fetchGraphql(params, Object.assign({}, options, { headers: headers }));
    };
  }

  function onEditHeaders(text) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var authorization;
      try {
        authorization = JSON.parse(text).Authorization;
      } catch (notJson) {
        return;
      }
      if (typeof authorization !== 'string' || !/^Bearer \\S+$/.test(authorization) || authorization === lastAuthorization) return;
      lastAuthorization = authorization;
      render();
    }, 400);
  }

  function render() {
    root.render(React.createElement(GraphiQL, {
      fetcher: createFetcher(),
      defaultTabs: config.tabs,
      defaultHeaders: config.headers,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      onEditHeaders: onEditHeaders
    }));
  }

  render();
})();
`;
