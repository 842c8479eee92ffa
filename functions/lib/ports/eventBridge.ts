// The events port: PutEvents on the pipeline's bus, source `certpipe`.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { asAwsError, type AwsClients } from '../aws.js';
import type { CertificateEvents } from './types.js';

export function eventBridge(aws: AwsClients, eventBusName: string | undefined): CertificateEvents {
  return {
    async put(detailType, detail) {
      try {
        await aws
          .client(EventBridgeClient)
          .send(new PutEventsCommand({ Entries: [{ Source: 'certpipe', DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: eventBusName }] }));
      } catch (err) {
        throw asAwsError(err, 'EventBridge PutEvents');
      }
    },
  };
}
