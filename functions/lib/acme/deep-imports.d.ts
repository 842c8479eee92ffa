// Types for the files of acme-client (and of axios) that certpipe imports one by
// one instead of through the package index: the index also loads node-forge
// (~290 KiB minified, for the legacy `forge` API nobody here calls), and axios'
// own index is its ESM build, a second copy beside the CommonJS one acme-client
// requires. These paths have no types of their own; they are the package's.

declare module 'acme-client/src/client.js' {
  import type { Client } from 'acme-client';
  const client: typeof Client;
  export = client;
}

declare module 'acme-client/src/axios.js' {
  import type { axios } from 'acme-client';
  const instance: typeof axios;
  export = instance;
}

declare module 'acme-client/src/crypto/index.js' {
  import type { CryptoInterface } from 'acme-client';
  const crypto: CryptoInterface;
  export = crypto;
}

declare module 'axios/dist/node/axios.cjs' {
  import axios from 'axios';
  export = axios;
}
