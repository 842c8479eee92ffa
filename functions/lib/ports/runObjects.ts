// A run's objects in the stack's bucket: the due list CheckExpiry writes for the
// Distributed Map's ItemReader, and the result files its ResultWriter leaves for
// Summarize. Two verbs, PUT and GET of JSON, through the SDK's S3 client (its
// retries for 5xx and SlowDown included); what is left transient after them
// becomes AwsTransient for the workflow's Retry.
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { asAwsError } from '../aws.js';

/** What the steps need of the run bucket. */
export interface RunObjects {
  readonly bucket: string;
  putJson(key: string, value: unknown): Promise<void>;
  getJson<T>(key: string, bucket?: string): Promise<T>;
}

export function s3RunObjects(bucket: string, s3: S3Client): RunObjects {
  return {
    bucket,
    putJson: async (key, value) => {
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' }));
      } catch (err) {
        throw asAwsError(err, `S3 PutObject s3://${bucket}/${key}`);
      }
    },
    getJson: async <T>(key: string, from = bucket) => {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: from, Key: key }));
        return JSON.parse((await object.Body?.transformToString('utf-8')) ?? 'null') as T;
      } catch (err) {
        throw asAwsError(err, `S3 GetObject s3://${from}/${key}`);
      }
    },
  };
}
