// What every step needs, created once per process (a warm Lambda reuses it).
import { AwsClients, awsClients } from './aws.js';
import { loadInventory, type Inventory } from './inventory.js';
import { CertificateStore } from './store/certificateStore.js';

export interface StepContext {
  readonly inventory: Inventory;
  readonly aws: AwsClients;
  /** The primary certificate secrets, in the pipeline's account and region. */
  readonly store: CertificateStore;
  readonly now: () => Date;
}

let shared: StepContext | undefined;

/** The handlers' context: inventory from CERTPIPE_INVENTORY, clients from the environment. */
export function stepContext(): StepContext {
  if (!shared) {
    const aws = awsClients();
    shared = { inventory: loadInventory(), aws, store: new CertificateStore(aws.secretsManager()), now: () => new Date() };
  }
  return shared;
}
