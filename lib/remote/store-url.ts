// The store-URL parser lives in util/store-url.ts (build and pipeline read it too); this name is
// kept for remote/open.ts and the stage API.
export * from '../util/store-url.js';
