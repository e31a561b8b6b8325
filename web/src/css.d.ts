// Stylesheets imported by the bundles are inlined as minified strings (see build.mjs).
declare module "*.css" {
  const css: string;
  export default css;
}
