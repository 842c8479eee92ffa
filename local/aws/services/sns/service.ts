// A minimal local SNS (AWS Query protocol): topics and the messages published to
// them, recorded instead of delivered. CloudWatch's alarm actions publish here
// through `notify` (as the cloudwatch.amazonaws.com service principal would),
// and `GET /_certpipe/sns/messages?topicArn=` reads what was published.
import { randomUUID } from 'node:crypto';
import { jsonResponse, queryService, xmlEscape } from '../../protocol.js';
import { AwsError, type LocalCloud, type LocalService, type ServiceFactory } from '../../types.js';

interface Topic {
  readonly topicArn: string;
  readonly name: string;
  readonly attributes: Record<string, string>;
}

export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  /** ISO 8601. */
  readonly timestamp: string;
}

export interface SnsService extends LocalService {
  /** CreateTopic for a caller in `account`/`region` (idempotent); resolves to the topic ARN. */
  createTopic(account: string, region: string, name: string, attributes?: Record<string, string>): Promise<string>;
  /** Publishes as an AWS service does for its own actions (alarm notifications); throws NotFound for an unknown topic. */
  notify(topicArn: string, subject: string, message: string): Promise<PublishedMessage>;
}

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const TOPIC_ARN = /^arn:aws[\w-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256})$/;
const MAX_MESSAGE_BYTES = 256 * 1024;

const snsError = (code: string, message: string, status = 400) => new AwsError(code, message, status);

const sns: ServiceFactory = (cloud: LocalCloud): SnsService => {
  const topics = cloud.store.collection<Topic>('sns/topics');
  const messages = cloud.store.collection<PublishedMessage>('sns/messages');
  topics.catch(() => undefined);
  messages.catch(() => undefined);
  let sequence = 0;

  const record = async (topicArn: string, message: string, subject: string | undefined): Promise<PublishedMessage> => {
    if (!(await topics).has(topicArn)) throw snsError('NotFound', 'Topic does not exist', 404);
    const published: PublishedMessage = {
      messageId: randomUUID(),
      topicArn,
      ...(subject ? { subject } : {}),
      message,
      timestamp: cloud.now().toISOString(),
    };
    // Keys sort by publication order.
    await (await messages).put(`${published.timestamp}#${String(sequence++).padStart(10, '0')}`, published);
    return published;
  };

  const createTopic = async (account: string, region: string, name: string, attributes: Record<string, string> = {}) => {
    if (!TOPIC_NAME.test(name)) throw snsError('InvalidParameter', 'Invalid parameter: Topic Name');
    const topicArn = `arn:aws:sns:${region}:${account}:${name}`;
    const store = await topics;
    if (!store.has(topicArn)) await store.put(topicArn, { topicArn, name, attributes });
    return topicArn;
  };

  const base = queryService({
    signingName: 'sns',
    xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/',
    operations: {
      async CreateTopic(params, ctx) {
        const attributes: Record<string, string> = {};
        for (let i = 1; params.has(`Attributes.entry.${i}.key`); i++) {
          attributes[params.get(`Attributes.entry.${i}.key`)!] = params.get(`Attributes.entry.${i}.value`) ?? '';
        }
        const topicArn = await createTopic(ctx.accountId, ctx.region, params.get('Name') ?? '', attributes);
        return `<TopicArn>${xmlEscape(topicArn)}</TopicArn>`;
      },
      async ListTopics(_params, ctx) {
        const store = await topics;
        const own = store.keys().filter((arn) => {
          const m = TOPIC_ARN.exec(arn);
          return m?.[1] === ctx.region && m[2] === ctx.accountId;
        });
        return `<Topics>${own.map((arn) => `<member><TopicArn>${xmlEscape(arn)}</TopicArn></member>`).join('')}</Topics>`;
      },
      async Publish(params, ctx) {
        const topicArn = params.get('TopicArn') ?? params.get('TargetArn') ?? '';
        const m = TOPIC_ARN.exec(topicArn);
        if (!m) throw snsError('InvalidParameter', 'Invalid parameter: TopicArn');
        if (m[1] !== ctx.region || m[2] !== ctx.accountId) throw snsError('NotFound', 'Topic does not exist', 404);
        const message = params.get('Message');
        if (!message) throw snsError('InvalidParameter', 'Invalid parameter: Empty message');
        if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) throw snsError('InvalidParameter', 'Invalid parameter: Message too long');
        const published = await record(topicArn, message, params.get('Subject') ?? undefined);
        return `<MessageId>${published.messageId}</MessageId>`;
      },
    },
  });

  return {
    ...base,
    createTopic,
    notify: (topicArn, subject, message) => record(topicArn, message, subject),
    internalRoutes: {
      'GET /_certpipe/sns/messages': async (req) => {
        const store = await messages;
        const topicArn = req.query.get('topicArn');
        const list = store.keys().map((key) => store.get(key)!).filter((m) => !topicArn || m.topicArn === topicArn);
        return jsonResponse(200, { messages: list });
      },
    },
  };
};

export default sns;
