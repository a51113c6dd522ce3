/**
 * What the Electron main bundle leaves out and loads at run time: electron itself, and keytar, whose
 * native .node file cannot be bundled. These, and only these, are the app's production
 * dependencies (package.json `dependencies`, `electron` excepted: it is the runtime): electron-builder
 * copies every production dependency into the installer, so anything else would ship twice, once
 * inside the bundle and once beside it. test/unit/packaging/app-contents.test.ts holds the two lists
 * together.
 */
export const ELECTRON_EXTERNALS = ['electron', 'keytar'];
