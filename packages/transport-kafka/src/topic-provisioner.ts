import type { Admin, ITopicConfig } from 'kafkajs';
import type { TopicSettings } from './kafka-transport-options';
import { isMetadataLag } from './metadata-lag';

/**
 * Creates topics through the admin API (never broker auto-creation), once per
 * topic per transport. Safe when two instances create the same topic at once.
 */
export class TopicProvisioner {
  private readonly known = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly admin: () => Promise<Admin>,
    private readonly settings: TopicSettings,
  ) {}

  async ensure(topics: readonly string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((topic) => !this.known.has(topic));
    if (missing.length === 0) return;
    const waits = missing
      .map((topic) => this.pending.get(topic))
      .filter((wait) => wait !== undefined);
    const fresh = missing.filter((topic) => !this.pending.has(topic));
    if (fresh.length > 0) {
      const creating = this.create(fresh).finally(() => {
        for (const topic of fresh) this.pending.delete(topic);
      });
      for (const topic of fresh) this.pending.set(topic, creating);
      waits.push(creating);
    }
    await Promise.all(waits);
  }

  private async create(topics: readonly string[]): Promise<void> {
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    const toCreate: ITopicConfig[] = topics
      .filter((topic) => !existing.has(topic))
      .map((topic) => ({
        topic,
        numPartitions: this.settings.partitions ?? 3,
        replicationFactor: this.settings.replicationFactor ?? 1,
        configEntries: Object.entries(this.settings.configs ?? {}).map(([name, value]) => ({
          name,
          value,
        })),
      }));
    if (toCreate.length > 0) {
      // createTopics resolves false (no throw) when a topic already exists: another
      // instance won the race, which is fine.
      await admin.createTopics({ topics: toCreate, waitForLeaders: true }).catch((error) => {
        // On a cluster, kafkajs's wait for leaders can ask a broker that has not
        // seen the new topic yet (UNKNOWN_TOPIC_OR_PARTITION): the topics exist,
        // and waitForMetadata below polls until their leaders show.
        if (!isMetadataLag(error)) throw error;
      });
      await this.waitForMetadata(
        admin,
        toCreate.map((config) => config.topic),
      );
    }
    for (const topic of topics) this.known.add(topic);
  }

  /** kafkajs can report a new topic before its metadata is everywhere: wait for it. */
  private async waitForMetadata(admin: Admin, topics: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { topics: described } = await admin.fetchTopicMetadata({ topics });
        if (
          described.every(
            (topic) => topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0),
          )
        )
          return;
      } catch (error) {
        if (attempt >= 50) throw error;
      }
      if (attempt >= 50) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
