import type { PartitionAssigner } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { TopicPartition } from './consumer-types.ts';

/**
 * The partition assigner of Tollgate's consumer instances. It does two things kafkajs's round
 * robin does not:
 *
 * - Manual assignment, which kafkajs lacks (no KafkaConsumer#assign). We get it from group
 *   management: an instance that assigns itself partitions joins its group advertising only
 *   this assigner, with the partitions it wants in its member userData. Whichever member leads
 *   the group hands each manual member exactly what it asked for.
 * - Members subscribed to different topics. kafkajs's round robin spreads the leader's topics
 *   over all members; kafkajs then drops partitions of topics a member did not subscribe to,
 *   and nobody reads them. Here each subscriber only gets partitions of its own topics.
 *
 * Subscribers advertise this assigner first and kafkajs's round robin second: a group of
 * Tollgate members uses this one, and a plain kafkajs member can still join (the broker then
 * picks round robin, the one protocol all members share).
 *
 * The price of manual assignment compared with Java's assign(): the instance is a group member
 * (it shows in describeGroups, and joining rebalances the group), and the group cannot be shared
 * with clients whose assigners we do not speak (Java's range/cooperative-sticky): the broker
 * answers INCONSISTENT_GROUP_PROTOCOL. What we gain: commits are ordinary generation-checked
 * group commits to the caller's own group, and no second group or extra ACL is needed.
 */

const { AssignerProtocol } = kafkajs;

export const TOLLGATE_ASSIGNER_NAME = 'TollgateAssigner';
const VERSION = 1;

/** One member's request as the group leader sees it. `manual` is null for a subscriber. */
export interface MemberRequest {
  readonly memberId: string;
  readonly topics: readonly string[];
  readonly manual: readonly TopicPartition[] | null;
}

/** Per member: partitions by topic. */
export type AssignmentPlan = Map<string, Record<string, number[]>>;

function addTo(plan: AssignmentPlan, memberId: string, topic: string, partition: number): void {
  const assignment = plan.get(memberId)!;
  const partitions = assignment[topic] ?? [];
  assignment[topic] = partitions;
  if (!partitions.includes(partition)) partitions.push(partition);
}

/**
 * Manual members get exactly the partitions they asked for (several may ask for the same one,
 * as with Java's assign). Subscribers share, round robin in member-id order, the partitions of
 * the topics they subscribe to that no manual member holds. Partition lists come out sorted.
 */
export function planAssignment(
  members: readonly MemberRequest[],
  partitionsByTopic: ReadonlyMap<string, readonly number[]>,
): AssignmentPlan {
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const plan: AssignmentPlan = new Map();
  const taken = new Set<string>();
  for (const member of sorted) {
    plan.set(member.memberId, Object.create(null) as Record<string, number[]>);
    for (const { topic, partition } of member.manual ?? []) {
      addTo(plan, member.memberId, topic, partition);
      taken.add(`${partition}\u0000${topic}`);
    }
  }
  const subscribers = sorted.filter((m) => m.manual === null);
  const topics = [...new Set(subscribers.flatMap((m) => m.topics))].sort();
  let turn = 0;
  for (const topic of topics) {
    const eligible = subscribers.filter((m) => m.topics.includes(topic));
    const partitions = [...(partitionsByTopic.get(topic) ?? [])].sort((a, b) => a - b);
    for (const partition of partitions) {
      if (taken.has(`${partition}\u0000${topic}`)) continue;
      addTo(plan, eligible[turn % eligible.length]!.memberId, topic, partition);
      turn++;
    }
  }
  for (const assignment of plan.values()) {
    for (const partitions of Object.values(assignment)) partitions.sort((a, b) => a - b);
  }
  return plan;
}

/** The member userData: `{"manual":[["topic",0],...]}` for a manual member, `{}` for a subscriber. */
export function encodeRequest(manual: readonly TopicPartition[] | null): Buffer {
  if (manual === null) return Buffer.from('{}');
  return Buffer.from(JSON.stringify({ manual: manual.map(({ topic, partition }) => [topic, partition]) }));
}

/** Reads a member's userData; anything unreadable counts as a subscriber. */
export function decodeRequest(userData: Buffer | null | undefined): TopicPartition[] | null {
  if (!userData || userData.length === 0) return null;
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as { manual?: unknown };
    if (!Array.isArray(parsed.manual)) return null;
    const out: TopicPartition[] = [];
    for (const entry of parsed.manual) {
      if (Array.isArray(entry) && typeof entry[0] === 'string' && Number.isInteger(entry[1])) {
        out.push({ topic: entry[0], partition: entry[1] as number });
      }
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * The kafkajs assigner. `manualPartitions` returns this member's manual assignment, or null
 * when it subscribes; it is read at every join.
 */
export function createTollgateAssigner(
  manualPartitions: () => readonly TopicPartition[] | null,
): PartitionAssigner {
  return ({ cluster }) => ({
    name: TOLLGATE_ASSIGNER_NAME,
    version: VERSION,
    protocol({ topics }) {
      return {
        name: TOLLGATE_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: VERSION,
          topics,
          userData: encodeRequest(manualPartitions()),
        }),
      };
    },
    async assign({ members }) {
      const requests: MemberRequest[] = members.map(({ memberId, memberMetadata }) => {
        const metadata = AssignerProtocol.MemberMetadata.decode(memberMetadata);
        return { memberId, topics: metadata?.topics ?? [], manual: decodeRequest(metadata?.userData) };
      });
      // The leader knows the metadata of its own topics only; subscribers may name others.
      const subscribed = [...new Set(requests.filter((r) => r.manual === null).flatMap((r) => r.topics))];
      if (subscribed.length > 0) await cluster.addMultipleTargetTopics(subscribed);
      const partitionsByTopic = new Map<string, number[]>();
      for (const topic of subscribed) {
        partitionsByTopic.set(
          topic,
          cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId),
        );
      }
      const plan = planAssignment(requests, partitionsByTopic);
      return [...plan].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment,
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}
