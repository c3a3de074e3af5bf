/**
 * Kafka's rules for a topic name (org.apache.kafka.common.internals.Topic.validate): 1 to 249
 * characters of `[a-zA-Z0-9._-]`, and not `.` or `..`. Checked at the REST edge (issue 9) so a
 * name the broker would refuse is the caller's 400, never a Kafka error passed on as a 5xx.
 */

export const MAX_TOPIC_NAME_LENGTH = 249;

const LEGAL = /^[a-zA-Z0-9._-]+$/;

export function isLegalTopicName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= MAX_TOPIC_NAME_LENGTH &&
    name !== '.' &&
    name !== '..' &&
    LEGAL.test(name)
  );
}
