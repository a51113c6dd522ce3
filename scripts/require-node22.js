// npm run puts node_modules/.bin first on PATH, so the `node` package's Node 22 runs our scripts.
// Stop early, and say why, if something else is in front of it.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `cosigner needs Node 22 (found ${process.version}). Run it through npm (npm test, npm run headless), which uses the node@22 package installed by npm ci.`,
  );
  process.exit(1);
}
