// Stands in for the `form-data` package in the function bundles. axios' Node build
// requires it for multipart uploads, which ACME never sends; the real package
// brings mime-db (~130 KiB minified) into every function that talks to the CA.
module.exports = class FormData {
  constructor() {
    throw new Error('form-data is not bundled with the certpipe functions: they send no multipart forms');
  }
};
