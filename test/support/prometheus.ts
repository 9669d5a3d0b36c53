import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';

/**
 * A scrape parsed by a real exposition-format parser, with lookups by name and labels.
 * parse-prometheus-text-format 1.1.1 merges every series of a labelled histogram into one (its `flattenMetrics`
 * keeps neither labels nor counts), so histogram series are also read from a second parse in which histograms are
 * untyped: each `<name>_count{...}` line is then a sample of its own, labels included.
 */
export class Scrape {
  readonly families: PrometheusFamily[];
  private readonly series: PrometheusFamily[];

  constructor(readonly text: string) {
    this.families = parsePrometheusTextFormat(text);
    this.series = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  }

  family(name: string): PrometheusFamily | undefined {
    return this.families.find((family) => family.name === name);
  }

  private sample(name: string, labels: Record<string, string>) {
    return this.family(name)?.metrics.find((sample) =>
      Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value),
    );
  }

  /** A counter's or gauge's value for the series whose labels include `labels`; undefined when there is none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const sample = this.sample(name, labels);
    return sample?.value === undefined ? undefined : Number(sample.value);
  }

  /** A histogram's observation count for the series whose labels include `labels`. */
  count(name: string, labels: Record<string, string> = {}): number | undefined {
    if (this.family(name)?.type !== 'HISTOGRAM') return undefined;
    const sample = this.seriesOf(`${name}_count`).find((candidate) =>
      Object.entries(labels).every(([key, value]) => candidate.labels?.[key] === value),
    );
    return sample?.value === undefined ? undefined : Number(sample.value);
  }

  /** Every value of label `label` in family `name`. */
  labelValues(name: string, label: string): string[] {
    const family = this.family(name)?.type === 'HISTOGRAM' ? `${name}_count` : name;
    return this.seriesOf(family).flatMap((sample) => sample.labels?.[label] ?? []);
  }

  /** Untyped, a histogram's lines alternate between names: each run of one name is a family of its own. */
  private seriesOf(name: string) {
    return this.series.filter((family) => family.name === name).flatMap((family) => family.metrics);
  }
}
